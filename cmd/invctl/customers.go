package main

import (
	"context"
	"flag"
	"strconv"

	"github.com/invsys/inv/client"
	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/cli"
)

type customerJSON struct {
	ID          string `json:"id"`
	Tier        uint8  `json:"tier"`
	Blocked     bool   `json:"blocked"`
	AutoBlocked bool   `json:"auto_blocked"`
	NoShows     int64  `json:"no_shows"`
	Open        int64  `json:"open"`
}

// customerArg parses a command of one customer id.
func customerArg(e *env, name string, args []string, extra func(fs *flag.FlagSet)) (string, error) {
	fs := newFlags(e, name)
	if extra != nil {
		extra(fs)
	}
	if err := parse(fs, args, 1); err != nil {
		return "", err
	}
	e.about(subject{customer: fs.Arg(0)})
	return fs.Arg(0), nil
}

func customerGet(e *env, args []string) error {
	id, err := customerArg(e, "customer get", args, nil)
	if err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	c, cancel := ctx()
	defer cancel()
	cu, err := cl.GetCustomer(c, id, e.readOpts()...)
	if err != nil {
		return err
	}
	out := customerJSON{ID: cu.ID, Tier: cu.Tier, Blocked: cu.Blocked, AutoBlocked: cu.AutoBlocked, NoShows: cu.NoShows, Open: cu.Open}
	return show(e, out, []string{"CUSTOMER", "TIER", "BLOCKED", "AUTO_BLOCKED", "NO_SHOWS", "OPEN"}, func() [][]string {
		return [][]string{{out.ID, num(out.Tier), strconv.FormatBool(out.Blocked), strconv.FormatBool(out.AutoBlocked),
			num(out.NoShows), num(out.Open)}}
	})
}

func customerBlock(e *env, args []string) error {
	id, err := customerArg(e, "customer block", args, nil)
	if err != nil {
		return err
	}
	return operate(e, "customer block", func(c context.Context, cl *client.Client) error {
		return cl.Block(c, client.CustomerRequest{Customer: id})
	})
}

func customerUnblock(e *env, args []string) error {
	id, err := customerArg(e, "customer unblock", args, nil)
	if err != nil {
		return err
	}
	return operate(e, "customer unblock", func(c context.Context, cl *client.Client) error {
		return cl.Unblock(c, client.CustomerRequest{Customer: id})
	})
}

func customerTier(e *env, args []string) error {
	var tier *uint
	id, err := customerArg(e, "customer tier", args, func(fs *flag.FlagSet) {
		tier = fs.Uint("tier", 0, "tier 0..15 (0 regular; a member share goes to its tier and above)")
		cli.Require(fs, "tier")
	})
	if err != nil {
		return err
	}
	if *tier > engine.MaxTier {
		return usagef("--tier %d: want 0..%d", *tier, engine.MaxTier)
	}
	return operate(e, "customer tier", func(c context.Context, cl *client.Client) error {
		return cl.SetTier(c, client.TierRequest{Customer: id, Tier: uint8(*tier)})
	})
}
