-- A worker that crashes now and then: every half second it does its bit of work and,
-- one time in four, fails. Its supervisor (supervised.yaml) restarts it each time.
local time = require("time")
local ticks = 0
while true do
  time.sleep(500)
  ticks = ticks + 1
  if math.random(4) == 1 then error("simulated crash after " .. ticks .. " ticks") end
end
