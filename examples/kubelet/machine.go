package kubelet

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Eviction thresholds behind the pressure conditions, Kubernetes' hard
// eviction defaults: memory.available < 100Mi, nodefs.available < 10%,
// and (for PIDs) fewer than 10% of pid_max free.
const (
	memoryPressureBytes  = 100 << 20
	diskPressureFraction = 0.10
	pidPressureFraction  = 0.10
)

// pressure is what the machine measures now.
type pressure struct {
	memory, disk, pid bool
	memAvail          int64
	diskFree          float64
	pidsUsed, pidMax  int64
}

func measurePressure() pressure {
	var p pressure
	if m, err := meminfo("MemAvailable"); err == nil {
		p.memAvail = m
		p.memory = m < memoryPressureBytes
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs("/", &fs); err == nil && fs.Blocks > 0 {
		p.diskFree = float64(fs.Bavail) / float64(fs.Blocks)
		p.disk = p.diskFree < diskPressureFraction
	}
	if max, err := strconv.ParseInt(readTrim("/proc/sys/kernel/pid_max"), 10, 64); err == nil && max > 0 {
		p.pidMax = max
		if f := strings.Fields(readTrim("/proc/loadavg")); len(f) >= 4 {
			if _, n, ok := strings.Cut(f[3], "/"); ok {
				p.pidsUsed, _ = strconv.ParseInt(n, 10, 64)
			}
		}
		p.pid = float64(max-p.pidsUsed)/float64(max) < pidPressureFraction
	}
	return p
}

func (p pressure) memoryReason() string {
	if p.memory {
		return "KubeletHasInsufficientMemory"
	}
	return "KubeletHasSufficientMemory"
}

func (p pressure) memoryMessage() string {
	if p.memory {
		return fmt.Sprintf("kubelet has insufficient memory available: %d bytes", p.memAvail)
	}
	return "kubelet has sufficient memory available"
}

func (p pressure) diskReason() string {
	if p.disk {
		return "KubeletHasDiskPressure"
	}
	return "KubeletHasNoDiskPressure"
}

func (p pressure) diskMessage() string {
	if p.disk {
		return fmt.Sprintf("kubelet has disk pressure: %.1f%% of / free", 100*p.diskFree)
	}
	return "kubelet has no disk pressure"
}

func (p pressure) pidReason() string {
	if p.pid {
		return "KubeletHasInsufficientPID"
	}
	return "KubeletHasSufficientPID"
}

func (p pressure) pidMessage() string {
	if p.pid {
		return fmt.Sprintf("kubelet has insufficient PID available: %d of %d used", p.pidsUsed, p.pidMax)
	}
	return "kubelet has sufficient PID available"
}

// meminfo reads one /proc/meminfo field, in bytes.
func meminfo(field string) (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		name, rest, ok := strings.Cut(s.Text(), ":")
		if !ok || name != field {
			continue
		}
		fs := strings.Fields(rest)
		if len(fs) == 0 {
			break
		}
		n, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			return 0, err
		}
		return n * 1024, nil
	}
	return 0, fmt.Errorf("/proc/meminfo: no %s", field)
}

// kernelVersion is the running kernel's release.
func kernelVersion() string { return readTrim("/proc/sys/kernel/osrelease") }

// osImage is PRETTY_NAME from /etc/os-release.
func osImage() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}
