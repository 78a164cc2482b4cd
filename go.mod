module github.com/setpoint-dev/setpoint

go 1.26.6

require github.com/prometheus/client_golang v1.25.0 // indirect
