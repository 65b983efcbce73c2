package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func genRosters(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := rostersCommand(args, &out, &errb); code != 0 {
		t.Fatalf("rosters %q: exit %d: %s", args, code, errb.String())
	}
	return out.String(), errb.String()
}

// The CSV is the presence scenario's ring: every item mutual, no self, roster items per
// user, and the same contacts as config.contacts gives the scenario.
func TestRostersCSV(t *testing.T) {
	out, msg := genRosters(t, "--n", "50", "--roster", "6", "--first", "3", "--prefix", "u", "--domain", "example.com", "--format", "hermod", "--out", "-")
	if !strings.Contains(msg, "50 rosters, 300 items") {
		t.Errorf("message %q", msg)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if lines[0] != "owner_jid,contact_jid,subscription" || len(lines) != 301 {
		t.Fatalf("header %q, %d lines", lines[0], len(lines))
	}
	items := map[string]bool{}
	per := map[string]int{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 3 || f[2] != "both" || f[0] == f[1] || items[f[0]+" "+f[1]] {
			t.Fatalf("line %q", l)
		}
		items[f[0]+" "+f[1]] = true
		per[f[0]]++
	}
	for it := range items {
		a, b, _ := strings.Cut(it, " ")
		if !items[b+" "+a] {
			t.Errorf("%s has %s, not the other way round", a, b)
		}
	}
	if len(per) != 50 || per["u3@example.com"] != 6 || per["u52@example.com"] != 6 {
		t.Errorf("owners %d, u3 %d, u52 %d", len(per), per["u3@example.com"], per["u52@example.com"])
	}
	c := &config{n: 50, roster: 6, first: 3, prefix: "u", domain: "example.com"}
	for _, a := range []int{3, 4, 27, 52} {
		for _, b := range c.contacts(a) {
			if !items[c.user(a)+"@example.com "+c.user(b)+"@example.com"] {
				t.Errorf("the scenario's contact %d of %d is not in the file", b, a)
			}
		}
	}
}

func TestRostersPIEFXIS(t *testing.T) {
	for _, pw := range []string{"pa<ss'", ""} {
		out, _ := genRosters(t, "--n", "5", "--roster", "2", "--format", "piefxis", "--password", pw, "--out", "-")
		var doc struct {
			XMLName xml.Name `xml:"urn:xmpp:pie:0 server-data"`
			Host    struct {
				JID   string `xml:"jid,attr"`
				Users []struct {
					Name     string  `xml:"name,attr"`
					Password *string `xml:"password,attr"`
					Query    struct {
						XMLName xml.Name `xml:"jabber:iq:roster query"`
						Items   []struct {
							JID          string `xml:"jid,attr"`
							Subscription string `xml:"subscription,attr"`
						} `xml:"item"`
					} `xml:"query"`
				} `xml:"user"`
			} `xml:"host"`
		}
		if err := xml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		u := doc.Host.Users
		if doc.Host.JID != "localhost" || len(u) != 5 || u[0].Name != "user1" || len(u[0].Query.Items) != 2 ||
			u[0].Query.Items[0].JID != "user2@localhost" || u[0].Query.Items[1].JID != "user5@localhost" || u[0].Query.Items[0].Subscription != "both" {
			t.Errorf("document: %+v", doc)
		}
		switch {
		case pw == "" && u[0].Password != nil:
			t.Errorf("--password \"\" wrote password %q", *u[0].Password)
		case pw != "" && (u[0].Password == nil || *u[0].Password != pw):
			t.Errorf("password %v, want %q", u[0].Password, pw)
		}
	}
}

func TestRostersProsody(t *testing.T) {
	dir := t.TempDir()
	genRosters(t, "--n", "4", "--roster", "2", "--prefix", "a-b.", "--domain", "chat.example.com", "--format", "prosody", "--out", dir)
	files, err := filepath.Glob(filepath.Join(dir, "chat%2eexample%2ecom", "roster", "*.dat"))
	if err != nil || len(files) != 4 {
		t.Fatalf("files %v, %v", files, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "chat%2eexample%2ecom", "roster", "a%2db%2e1.dat"))
	if err != nil {
		t.Fatal(err)
	}
	want := "return {\n\t[false] = {\n\t\t[\"version\"] = 1;\n\t};\n" +
		"\t[\"a-b.2@chat.example.com\"] = {\n\t\t[\"subscription\"] = \"both\";\n\t\t[\"groups\"] = {};\n\t};\n" +
		"\t[\"a-b.4@chat.example.com\"] = {\n\t\t[\"subscription\"] = \"both\";\n\t\t[\"groups\"] = {};\n\t};\n};\n"
	if string(b) != want {
		t.Errorf("a-b.1's roster file:\n%s\nwant\n%s", b, want)
	}
}

func TestRostersFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--n", "10", "--roster", "4", "--out", "x"},                            // no format
		{"--n", "10", "--roster", "4", "--format", "xml", "--out", "x"},         // unknown format
		{"--n", "10", "--roster", "3", "--format", "hermod", "--out", "x"},      // odd
		{"--n", "10", "--roster", "10", "--format", "hermod", "--out", "x"},     // not below n
		{"--n", "10", "--roster", "4", "--format", "hermod"},                    // no out
		{"--n", "10", "--roster", "4", "--format", "prosody", "--out", "-"},     // a directory
		{"--n", "10", "--roster", "4", "--format", "hermod", "--out", "-", "x"}, // argument
		{"--n", "10", "--roster", "4", "--format", "hermod", "--out", "-", "--prefix", "a@b"},
	} {
		var out, errb bytes.Buffer
		if code := rostersCommand(args, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage:") {
			t.Errorf("rosters %q: exit %d, %q", args, code, errb.String())
		}
	}
	if got := prosodyEncode("user_1.x-Y"); got != "user%5f1%2ex%2dY" {
		t.Errorf("prosodyEncode = %q", got)
	}
	if !slices.Equal((&rosterGen{ring: config{n: 10, roster: 4, first: 1}}).contacts(1), []int{2, 3, 9, 10}) {
		t.Error("contacts of 1 in a ring of 10")
	}
}
