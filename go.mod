module github.com/setpoint-dev/setpoint

go 1.26.6
