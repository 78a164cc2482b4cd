package job

import (
	"slices"
	"testing"
)

func TestIndexes(t *testing.T) {
	for _, tc := range []struct {
		in   []int32
		want string
	}{
		{nil, ""}, {[]int32{0}, "0"}, {[]int32{1, 0}, "0,1"}, {[]int32{2, 0, 1, 5, 7, 8, 9, 9}, "0-2,5,7-9"},
	} {
		got := FormatIndexes(tc.in)
		if got != tc.want {
			t.Errorf("FormatIndexes(%v) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := ParseIndexes(got, 10)
		if err != nil {
			t.Fatalf("ParseIndexes(%q): %v", got, err)
		}
		want := slices.Compact(slices.Sorted(slices.Values(tc.in)))
		if !slices.Equal(back, want) && len(back)+len(want) > 0 {
			t.Errorf("ParseIndexes(%q) = %v, want %v", got, back, want)
		}
	}
	for _, bad := range []string{"a", "1-", "-1", "3-1", "2,1", "1,1", "10", "0-10", "1,,2", "+1"} {
		if _, err := ParseIndexes(bad, 10); err == nil {
			t.Errorf("ParseIndexes(%q) succeeded", bad)
		}
	}
}

func FuzzParseIndexes(f *testing.F) {
	for _, s := range []string{"", "0", "0-2,5,7-9", "1,3", "3-1", "a", "1,,2", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		idx, err := ParseIndexes(s, 1000)
		if err != nil {
			return
		}
		// Whatever parses round-trips to the same set, in order.
		back, err := ParseIndexes(FormatIndexes(idx), 1000)
		if err != nil || !slices.Equal(back, idx) {
			t.Fatalf("%q: round trip %v -> %q -> %v, %v", s, idx, FormatIndexes(idx), back, err)
		}
		if !slices.IsSorted(idx) {
			t.Fatalf("%q: %v not sorted", s, idx)
		}
	})
}
