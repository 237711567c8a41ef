package localstack

import "syscall"

// procAttr puts an emulator in its own process group (so Stop can signal the
// whole group) and has the kernel kill it if this process dies without
// calling Stop (a test binary killed on timeout, a panic), so no emulator is
// ever orphaned.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
