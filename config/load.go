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

// Commands are the subcommands, in the order the help text lists them:
// the parser (command) and the help text (Usage) both read this table.
var Commands = []struct {
	Command Command
	// Synopsis follows "plaza " in the help text; Help explains it.
	Synopsis, Help string
}{
	{Serve, "[serve] [flags]", "run the gateway (the default)"},
	{Token, "token --user ID | --provider ID", "print a development token for a user, or for a provider's developer"},
	{Migrate, "migrate [--check]", "apply the provider directory's schema migrations to PLAZA_DATABASE_URL\n" +
		"(exit 0: schema current; 1: not current or the database failed; 2: not set)"},
	{ProvidersImport, "providers import FILE", "load a provider registry file (YAML) into the directory at PLAZA_DATABASE_URL,\n" +
		"idempotently; its providers are ACTIVE, secrets encrypted with PLAZA_DIRECTORY_KEY\n" +
		"(exit 0 done; 1 a bad entry or the database failed; 2 not set)"},
	{ProvidersGenerate, "providers generate --count N [--seed S] [--items-per-provider K] [--endpoint VERTICAL=URL]... [--secret S]",
		"fill the directory with N synthetic ACTIVE providers and index K catalogue items of each (default 20)\n" +
			"through the catalogue contract (tests and the bench; refused in production)\n" +
			"(exit as providers import)"},
	{Help, "help", "print this help (also -h, --help)"},
}

// command splits off the subcommand: none (or a flag first) is serve. A
// subcommand is one word or two ("providers import").
func command(args []string) (Command, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return Serve, args, nil
	}
	var groups, synopses []string
	for _, c := range Commands {
		if string(c.Command) == args[0] {
			return c.Command, args[1:], nil
		}
		group, _, two := strings.Cut(string(c.Command), " ")
		if !two || group != args[0] {
			continue
		}
		groups, synopses = append(groups, string(c.Command)), append(synopses, c.Synopsis)
		if len(args) > 1 && string(c.Command) == args[0]+" "+args[1] {
			return c.Command, args[2:], nil
		}
	}
	if len(groups) == 0 {
		return "", nil, &UsageError{Msg: fmt.Sprintf("unknown command %q", args[0])}
	}
	if len(args) > 1 {
		return "", nil, &UsageError{Msg: fmt.Sprintf("unknown command \"%s %s\" (want %s)", args[0], args[1], strings.Join(groups, " or "))}
	}
	return "", nil, &UsageError{Msg: fmt.Sprintf("%s: want %s", args[0], strings.Join(synopses, " or "))}
}

// Usage is the help text: every subcommand, its flags and every variable.
func Usage() string {
	var b strings.Builder
	b.WriteString("Plaza, a GraphQL gateway over many providers.\n\nUsage:\n")
	const indent = "                           "
	for _, c := range Commands {
		line := "  plaza " + c.Synopsis
		help := strings.ReplaceAll(c.Help, "\n", "\n"+indent)
		if len(line) < len(indent)-1 {
			fmt.Fprintf(&b, "%-*s%s\n", len(indent), line, help)
		} else {
			fmt.Fprintf(&b, "%s\n%s%s\n", line, indent, help)
		}
	}
	for _, c := range Commands {
		var flags strings.Builder
		for _, s := range Settings {
			if s.Flag == "" || !slices.Contains(s.Commands, c.Command) {
				continue
			}
			name := "--" + s.Flag
			if s.Env != "" {
				name += " (" + s.Env + ")"
			}
			fmt.Fprintf(&flags, "  %-36s %s%s\n", name, plain(s.Usage), defaultNote(s))
		}
		if flags.Len() > 0 {
			fmt.Fprintf(&b, "\nFlags of %s:\n%s", c.Command, flags.String())
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
