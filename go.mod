module github.com/setpoint-dev/setpoint

go 1.26.6

require github.com/google/go-cmp v0.7.0
