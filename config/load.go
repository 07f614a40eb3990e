package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Load parses the command line (subcommand and flags) and the environment
// over Default, then checks the rules that span settings. Every malformed
// value is an *Error naming the setting and the reason; a command line that
// asks for help returns ErrHelp; a bad command line a *UsageError. Nothing
// is started, opened or dialled.
func Load(args []string, getenv func(string) string) (Command, Config, error) {
	cmd, args, err := command(args)
	if err != nil {
		return cmd, Config{}, err
	}
	if cmd == Help {
		return cmd, Config{}, ErrHelp
	}
	c := Default()
	c.given = map[string]bool{}
	for _, s := range Settings {
		if s.Env == "" {
			continue
		}
		if v := getenv(s.Env); v != "" {
			if err := s.set(&c, v); err != nil {
				return cmd, c, &Error{Setting: s.Env, Value: shown(s, v), Reason: err.Error()}
			}
			c.given[s.key()] = true
		}
	}
	fs := flag.NewFlagSet("plaza "+string(cmd), flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the usage is ours, printed by the caller
	var bad *Error           // the flag package wraps errors with %v; keep ours
	for _, s := range Settings {
		if s.Flag == "" || !slices.Contains(s.Commands, cmd) {
			continue
		}
		parse := func(v string) error {
			if err := s.set(&c, v); err != nil {
				bad = &Error{Setting: "--" + s.Flag, Value: shown(s, v), Reason: err.Error()}
				return bad
			}
			c.given[s.key()] = true
			return nil
		}
		if s.boolFlag {
			fs.BoolFunc(s.Flag, s.Usage, func(v string) error { return parse(v) })
		} else {
			fs.Func(s.Flag, s.Usage, parse)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cmd, c, ErrHelp
		}
		if bad != nil {
			return cmd, c, bad
		}
		return cmd, c, &UsageError{Msg: fmt.Sprintf("plaza %s: %v", cmd, err)}
	}
	rest := fs.Args()
	if cmd == ProvidersImport && len(rest) > 0 {
		c.ImportFile, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		return cmd, c, &UsageError{Msg: fmt.Sprintf("plaza %s: unexpected argument %q", cmd, rest[0])}
	}
	if err := c.finish(cmd); err != nil {
		return cmd, c, err
	}
	return cmd, c, nil
}

// command splits off the subcommand: none (or a flag first) is serve.
func command(args []string) (Command, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return Serve, args, nil
	}
	switch c := Command(args[0]); c {
	case Serve, Token, Help, Migrate:
		return c, args[1:], nil
	case "providers":
		if len(args) > 1 {
			switch c := Command("providers " + args[1]); c {
			case ProvidersImport, ProvidersGenerate:
				return c, args[2:], nil
			}
			return "", nil, &UsageError{Msg: fmt.Sprintf("unknown command \"providers %s\" (want providers import or providers generate)", args[1])}
		}
		return "", nil, &UsageError{Msg: "providers: want providers import FILE or providers generate --count N"}
	}
	return "", nil, &UsageError{Msg: fmt.Sprintf("unknown command %q", args[0])}
}

// Usage is the help text: every subcommand, its flags and every variable.
func Usage() string {
	var b strings.Builder
	b.WriteString(`Plaza, a GraphQL gateway over many providers.

Usage:
  plaza [serve] [flags]    run the gateway (the default)
  plaza token --user ID    print a development token for a user
  plaza migrate [--check]  apply the provider directory's schema migrations to PLAZA_DATABASE_URL
                           (exit 0: schema current; 1: not current or the database failed; 2: not set)
  plaza providers import FILE
                           load a provider registry file (YAML) into the directory at PLAZA_DATABASE_URL,
                           idempotently; its providers are ACTIVE, secrets encrypted with PLAZA_DIRECTORY_KEY
  plaza providers generate --count N [--seed S] [--endpoint VERTICAL=URL]... [--secret S]
                           fill the directory with N synthetic ACTIVE providers (tests and the bench;
                           refused in production)
                           (providers: exit 0 done; 1 a bad entry or the database failed; 2 not set)
  plaza help               print this help (also -h, --help)
`)
	for _, cmd := range []Command{Serve, Token, Migrate, ProvidersGenerate} {
		fmt.Fprintf(&b, "\nFlags of %s:\n", cmd)
		for _, s := range Settings {
			if s.Flag == "" || !slices.Contains(s.Commands, cmd) {
				continue
			}
			name := "--" + s.Flag
			if s.Env != "" {
				name += " (" + s.Env + ")"
			}
			fmt.Fprintf(&b, "  %-36s %s%s\n", name, plain(s.Usage), defaultNote(s))
		}
	}
	b.WriteString("\nEnvironment (a flag wins over its variable):\n")
	for _, s := range Settings {
		if s.Env == "" {
			continue
		}
		fmt.Fprintf(&b, "  %-36s %s%s\n", s.Env, plain(s.Usage), defaultNote(s))
	}
	return b.String()
}

func defaultNote(s Setting) string {
	if s.Default == "" {
		return ""
	}
	return " (default " + plain(s.Default) + ")"
}

// plain drops the README's Markdown code quotes.
func plain(s string) string { return strings.ReplaceAll(s, "`", "") }

// Markdown is the README's configuration table.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| Variable | Flag | Kind | Default | What it sets |\n|---|---|---|---|---|\n")
	for _, s := range Settings {
		env, flagName := "—", "—"
		if s.Env != "" {
			env = "`" + s.Env + "`"
		}
		if s.Flag != "" {
			flagName = "`--" + s.Flag + "`"
		}
		def := s.Default
		if def == "" {
			def = "—"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", env, flagName, s.Kind, def, s.Usage)
	}
	return b.String()
}
