package rest

import (
	"strconv"
)

// parseGracePeriod reads the gracePeriodSeconds query parameter.
func parseGracePeriod(v string) (*int64, error) {
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, badRequest("invalid gracePeriodSeconds %q", v)
	}
	return &n, nil
}
