-- The seed's Lua example, verbatim, as a process.lua entry; the last line hands the
-- worker's value out (the snippet keeps `result` local), so the process ends with it.
local process = require("process")
local time = require("time")
local pid, err = process.spawn_monitored("myns:compute_worker", "myns:processes", 6, 7)
if err then error("spawn failed: " .. tostring(err)) end
local event = process.receive(time.seconds(10))
if event and event.type == "EXIT" then local result = event.value end
return event and event.value
