package bench

import "syscall"

// procAttr has the kernel kill a started function if the bench dies before it
// does (interrupted, killed), so none is left behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
