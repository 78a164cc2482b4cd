module github.com/setpoint-dev/setpoint/bench

go 1.26.6

require github.com/setpoint-dev/setpoint v0.0.0

replace github.com/setpoint-dev/setpoint => ../
