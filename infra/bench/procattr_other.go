//go:build !linux

package bench

import "syscall"

// procAttr is empty outside Linux: there is no parent-death signal, and the
// bench kills every function it starts before it returns.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{}
}
