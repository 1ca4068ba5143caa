package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/genesis"
)

// runGenesis rewrites (or, with --check, verifies) the embedded genesis
// files, one per profile, from their models.
func runGenesis(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("genesis", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("root", ".", "repository root holding genesis/")
	check := fs.Bool("check", false, "only check that the files match the models")
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
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

// runWallet makes keys and signs transfers for the v1 API.
func runWallet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("usage: pycotr wallet new | pycotr wallet transfer --key FILE --to ADDRESS --amount N [--fee N]")
	}
	switch args[0] {
	case "new":
		k, err := chain.GenerateKey()
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(map[string]string{
			"address": string(chain.AddressOf(&k.PublicKey)),
			"private": chain.EncodePrivateKey(k),
		})
	case "transfer":
		fs := flag.NewFlagSet("wallet transfer", flag.ContinueOnError)
		fs.SetOutput(stderr)
		keyFile := fs.String("key", "", "file holding the sender's private key (hex PKCS#1)")
		to := fs.String("to", "", "recipient address")
		amount := fs.Int64("amount", 0, "amount")
		fee := fs.Int64("fee", 0, "fee")
		if err := fs.Parse(args[1:]); err != nil {
			return usagef("%v", err)
		}
		data, err := os.ReadFile(*keyFile)
		if err != nil {
			return usagef("--key: %v", err)
		}
		k, err := chain.ParsePrivateKey(string(bytes.TrimSpace(data)))
		if err != nil {
			return usagef("--key: %v", err)
		}
		tx, err := chain.NewTransfer(k, chain.Address(*to), *amount, *fee, "")
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(tx)
	}
	return usagef("unknown wallet command %q: want new or transfer", args[0])
}

// runProbe exits 0 when the URL answers 2xx within 3 s.
func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	url := "http://127.0.0.1:3001/readyz"
	if len(args) > 0 {
		url = args[0]
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
