package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/pycotr/pycotr/genesis"
)

// runGenesis rewrites (or, with --check, verifies) the embedded genesis
// files, one per profile, from their models.
func runGenesis(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("genesis", stderr)
	dir := fs.String("root", ".", "repository root holding genesis/")
	check := fs.Bool("check", false, "only check that the files match the models")
	if err := fs.Parse(args); err != nil {
		return usagef("%w", err)
	}
	for _, pr := range genesis.Profiles {
		f, err := genesis.ProfileFile(ctx, pr)
		if err != nil {
			return err
		}
		data, err := f.Marshal()
		if err != nil {
			return err
		}
		path := filepath.Join(*dir, pr.File)
		if *check {
			have, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if !bytes.Equal(have, data) {
				return fmt.Errorf("%s does not match the %s model; run `pycotr genesis`", path, pr.Name)
			}
			fmt.Fprintf(stdout, "%s matches the %s model (hash %s)\n", path, pr.Name, f.Hash)
			continue
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%s, hash %s)\n", path, pr.Name, f.Hash)
	}
	return nil
}

// runProbe exits 0 when the URL answers 2xx within 3 s.
func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("probe", stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: pycotr probe [URL]  (default http://127.0.0.1:3001/readyz)") }
	if err := fs.Parse(args); err != nil {
		return usagef("%w", err)
	}
	if fs.NArg() > 1 {
		return usagef("unexpected argument %q", fs.Arg(1))
	}
	url := "http://127.0.0.1:3001/readyz"
	if fs.NArg() > 0 {
		url = fs.Arg(0)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return usagef("bad URL %q: %v", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
