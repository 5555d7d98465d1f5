package auth_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
)

func Example() {
	dataDir, err := os.MkdirTemp("", "dwell")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dataDir)

	keys, err := auth.OpenKeyring(filepath.Join(dataDir, "keys"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := keys.EnsureTenant(context.Background(), "acme"); err != nil {
		log.Fatal(err)
	}

	now := time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)
	rep := dwell.Principal{Tenant: "acme", Subject: "rep-17", Role: dwell.RoleRep}
	token, err := keys.Mint(rep, 12*time.Hour, now)
	if err != nil {
		log.Fatal(err)
	}

	// A server reads the token from the request's metadata and verifies it.
	md := map[string][]string{"authorization": {"Bearer " + token}}
	bearer, err := auth.BearerFromMetadata(md)
	if err != nil {
		log.Fatal(err)
	}
	p, err := keys.Verify(bearer, now.Add(time.Hour))
	fmt.Println(p.Tenant, p.Subject, p.Role, err)

	// The next day the token has expired.
	_, err = keys.Verify(bearer, now.Add(24*time.Hour))
	fmt.Println(dwell.KindOf(err), "-", dwell.MessageOf(err))
	// Output:
	// acme rep-17 rep <nil>
	// unauthenticated - token expired
}
