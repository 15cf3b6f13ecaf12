-- The ponger of examples/ping-pong, in Lua: it answers every message on topic "pong"
-- with the same payload and format (the C pinger sends 4 bytes), and on CANCEL ends
-- with the number it served, which the pinger checks.
local process = require("process")
local served = 0
while true do
  local event = process.receive()
  if event.type == "CANCEL" then return served end
  if event.type == "MESSAGE" then
    local ok, err = process.send(event.from, "pong", event.payload, event.format)
    if not ok then error("reply to " .. event.from .. " failed: " .. tostring(err)) end
    served = served + 1
  end
end
