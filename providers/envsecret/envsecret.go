// Package envsecret reads a secret setting from the environment: the
// variable NAME, or the file named by NAME_FILE (secrets belong in the
// environment or in files outside the repository, never in code). Errors
// name the variable, never the value.
package envsecret

import (
	"fmt"
	"os"
	"strings"
)

// Read returns the value of name, or the trimmed content of the file named
// by name_FILE; "" when neither is set. Setting both, an unreadable file and
// an empty file are errors.
func Read(getenv func(string) string, name string) (string, error) {
	value := strings.TrimSpace(getenv(name))
	file := strings.TrimSpace(getenv(name + "_FILE"))
	switch {
	case value != "" && file != "":
		return "", fmt.Errorf("set only one of %s and %s_FILE", name, name)
	case file != "":
		raw, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: read secret file: %w", name, err)
		}
		v := strings.TrimSpace(string(raw))
		if v == "" {
			return "", fmt.Errorf("%s_FILE: the file is empty", name)
		}
		return v, nil
	}
	return value, nil
}
