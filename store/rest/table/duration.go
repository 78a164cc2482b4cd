package table

import (
	"strconv"
	"time"
)

// HumanDuration formats d the way kubectl prints ages: two significant
// units while they are informative ("90s", "5m30s", "3h20m", "4d5h",
// "2y40d"), one unit otherwise ("15m", "20h", "100d", "9y"). Slightly
// negative durations (clock skew up to a second) print as "0s"; more
// negative ones as "<invalid>".
func HumanDuration(d time.Duration) string {
	secs := int64(d / time.Second)
	switch {
	case secs < -1:
		return "<invalid>"
	case secs < 0:
		return "0s"
	case secs < 120:
		return itoa(secs) + "s"
	}
	mins := int64(d / time.Minute)
	switch {
	case mins < 10:
		return pair(mins, "m", secs%60, "s")
	case mins < 180:
		return itoa(mins) + "m"
	}
	hours := int64(d / time.Hour)
	days := hours / 24
	years := days / 365
	switch {
	case hours < 8:
		return pair(hours, "h", mins%60, "m")
	case hours < 48:
		return itoa(hours) + "h"
	case hours < 24*8:
		return pair(days, "d", hours%24, "h")
	case hours < 24*365*2:
		return itoa(days) + "d"
	case hours < 24*365*8:
		return pair(years, "y", days%365, "d")
	}
	return itoa(years) + "y"
}

// pair prints "<a><ua><b><ub>", leaving out a zero second part.
func pair(a int64, ua string, b int64, ub string) string {
	if b == 0 {
		return itoa(a) + ua
	}
	return itoa(a) + ua + itoa(b) + ub
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
