package localstack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestStartListensOnLoopbackOnlyAndStops(t *testing.T) {
	stack, err := Start(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stack.Stop() })

	for _, endpoint := range []string{stack.DynamoEndpoint, stack.FauxqsEndpoint, stack.S3Endpoint} {
		host, port, err := net.SplitHostPort(strings.TrimPrefix(endpoint, "http://"))
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("endpoint %q: want http://127.0.0.1:port", endpoint)
		}
		if got := listeners(t, port); !reflect.DeepEqual(got, []string{"127.0.0.1"}) {
			t.Errorf("listeners on port %s = %v, want only 127.0.0.1", port, got)
		}
	}

	if err := stack.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range stack.procs {
		if err := syscall.Kill(p.cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pid %d) still exists after Stop: %v", p.name, p.cmd.Process.Pid, err)
		}
	}
	if conn, err := net.Dial("tcp", strings.TrimPrefix(stack.S3Endpoint, "http://")); err == nil {
		conn.Close()
		t.Errorf("S3 front %s still accepts connections after Stop", stack.S3Endpoint)
	}
	if _, err := os.Stat(stack.LogDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("log directory %s not removed: %v", stack.LogDir, err)
	}
}

// listeners returns the addresses of the TCP sockets listening on port, from
// /proc/net/tcp{,6}, without sending any traffic.
func listeners(t *testing.T, port string) []string {
	t.Helper()
	var p int
	fmt.Sscan(port, &p)
	hexPort := fmt.Sprintf("%04X", p)
	var addrs []string
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			t.Skipf("cannot read listening sockets: %v", err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[3] != "0A" { // 0A = LISTEN
				continue
			}
			addr, lport, _ := strings.Cut(fields[1], ":")
			if lport == hexPort {
				addrs = append(addrs, procAddr(addr))
			}
		}
		f.Close()
	}
	return addrs
}

// procAddr decodes an address of /proc/net/tcp: 32-bit words in host (little
// endian) order.
func procAddr(h string) string {
	var b []byte
	for i := 0; i+8 <= len(h); i += 8 {
		var w uint32
		fmt.Sscanf(h[i:i+8], "%08X", &w)
		b = append(b, byte(w), byte(w>>8), byte(w>>16), byte(w>>24))
	}
	return net.IP(b).String()
}

func TestStartReportsEmulatorFailureWithLog(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, err = Start(t.Context(), Options{FauxqsPort: busy.Addr().(*net.TCPAddr).Port, LogDir: t.TempDir()})
	if err == nil {
		t.Fatal("Start succeeded on a port in use")
	}
	for _, want := range []string{"fauxqs exited during start-up", "fauxqs.log", "EADDRINUSE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestStartChecksPrerequisites(t *testing.T) {
	_, err := Start(context.Background(), Options{Dir: t.TempDir()})
	if err == nil {
		t.Fatal("Start succeeded without node_modules")
	}
	for _, want := range []string{"is not the infra directory", "DynamoDB Local is not installed", "fauxqs is not installed", "run `make deps`"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestVersionParsing(t *testing.T) {
	tests := []struct {
		name  string
		parse func(string) (int, error)
		out   string
		want  int
	}{
		{"openjdk 17", javaMajor, "openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime Environment", 17},
		{"openjdk 21", javaMajor, `openjdk version "21" 2023-09-19`, 21},
		{"java 8", javaMajor, `java version "1.8.0_402"`, 8},
		{"no java version", javaMajor, "Error: could not find libjava.so", -1},
		{"node 20", nodeMajor, "v20.20.2\n", 20},
		{"node 18", nodeMajor, "v18.19.0", 18},
		{"no node version", nodeMajor, "node: not found", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.parse(tc.out)
			if tc.want < 0 {
				if err == nil {
					t.Fatalf("parsed %d from %q, want an error", got, tc.out)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	s := &Stack{DynamoEndpoint: "http://127.0.0.1:1", FauxqsEndpoint: "http://127.0.0.1:2", S3Endpoint: "http://127.0.0.1:3"}
	endpoints := map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:1",
		"AWS_ENDPOINT_URL_SQS":      "http://127.0.0.1:2",
		"AWS_ENDPOINT_URL_S3":       "http://127.0.0.1:3", // the S3 front, not fauxqs
	}
	tests := []struct {
		name         string
		region, key  string // already in the environment
		wantDefaults map[string]string
	}{
		{"nothing set", "", "", map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}},
		{"region set", "eu-west-1", "", map[string]string{"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}},
		{"all set", "eu-west-1", "AKIDEXAMPLE", map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_REGION", tc.region)
			t.Setenv("AWS_ACCESS_KEY_ID", tc.key)
			want := map[string]string{}
			for k, v := range endpoints {
				want[k] = v
			}
			for k, v := range tc.wantDefaults {
				want[k] = v
			}
			if got := s.Env(); !reflect.DeepEqual(got, want) {
				t.Errorf("Env() = %v, want %v", got, want)
			}
		})
	}
}

func TestUniquePrefix(t *testing.T) {
	tests := []struct{ name, wantBase string }{
		{"TestProvision/Sub_Test", "testprovision-sub-te"},
		{"", "t"},
		{"--Weird..Name--", "weird-name"},
	}
	for _, tc := range tests {
		got := UniquePrefix(tc.name)
		if !strings.HasPrefix(got, tc.wantBase+"-") || len(got) != len(tc.wantBase)+9 || got == UniquePrefix(tc.name) {
			t.Errorf("UniquePrefix(%q) = %q, want %q-<8 random hex>", tc.name, got, tc.wantBase)
		}
	}
}
