package transfer

import (
	"fmt"
	"time"

	"github.com/hermod-im/hermod/backends"
)

// Format names the file format in the header, and Version its version. A reader refuses
// other formats and newer versions.
const (
	Format  = "hermod-export"
	Version = 1
)

// OfflineChunk is the most offline messages one "offline" line carries.
const OfflineChunk = 500

// Record kinds, the "t" field of a line.
const (
	tAccount = "account"
	tRoster  = "roster"
	tOffline = "offline"
	tVCard   = "vcard"
	tPrivate = "private"
	tPrivacy = "privacy"
	tLast    = "last"
	tEnd     = "end"
)

// header is the first line of a file.
type header struct {
	Format  string   `json:"format"`
	Version int      `json:"version"`
	Domains []string `json:"domains"`
}

// line is every line after the header: T says which of the other fields are set.
type line struct {
	T      string `json:"t"`
	Domain string `json:"domain,omitempty"`
	User   string `json:"user,omitempty"`

	Account *accountRec `json:"account,omitempty"`
	Roster  *rosterRec  `json:"roster,omitempty"`
	Offline []offRec    `json:"offline,omitempty"`
	VCard   []byte      `json:"vcard,omitempty"`
	Private *privRec    `json:"private,omitempty"`
	Privacy *privacyRec `json:"privacy,omitempty"`
	Last    *lastRec    `json:"last,omitempty"`
	End     *Summary    `json:"end,omitempty"`
}

type accountRec struct {
	Created int64    `json:"created"` // Unix seconds
	SHA1    *keysRec `json:"sha1,omitempty"`
	SHA256  *keysRec `json:"sha256,omitempty"`
	SHA512  *keysRec `json:"sha512,omitempty"`
}

type keysRec struct {
	Salt       []byte `json:"salt"`
	Iterations int    `json:"iterations"`
	StoredKey  []byte `json:"stored_key"`
	ServerKey  []byte `json:"server_key"`
}

type rosterRec struct {
	Version uint64       `json:"version"`
	Items   []itemRec    `json:"items,omitempty"`
	Pending []pendingRec `json:"pending,omitempty"`
}

type itemRec struct {
	Contact      string   `json:"contact"`
	Name         string   `json:"name,omitempty"`
	Groups       []string `json:"groups,omitempty"`
	Subscription string   `json:"subscription"`
	Ask          bool     `json:"ask,omitempty"`
	Approved     bool     `json:"approved,omitempty"`
}

type pendingRec struct {
	Contact string `json:"contact"`
	Stanza  []byte `json:"stanza,omitempty"`
}

type offRec struct {
	Stamp int64  `json:"stamp"` // Unix milliseconds
	Raw   []byte `json:"raw"`
}

type privRec struct {
	Namespace string `json:"ns"`
	XML       []byte `json:"xml"`
}

type privacyRec struct {
	Default string    `json:"default,omitempty"`
	Lists   []listRec `json:"lists"`
}

type listRec struct {
	Name  string        `json:"name"`
	Items []privItemRec `json:"items"`
}

type privItemRec struct {
	Type    string `json:"type,omitempty"` // "" (fall-through), jid, group, subscription
	Value   string `json:"value,omitempty"`
	Deny    bool   `json:"deny,omitempty"`
	Order   uint32 `json:"order"`
	Stanzas uint8  `json:"stanzas,omitempty"` // backends.PrivacyStanzas bits; 0 = all
}

type lastRec struct {
	At     int64  `json:"at"` // Unix seconds
	Status string `json:"status,omitempty"`
}

// Summary counts what an export wrote or an import read and stored. It is also the
// file's trailer.
type Summary struct {
	Accounts        int `json:"accounts"`
	Rosters         int `json:"rosters"`
	RosterItems     int `json:"roster_items"`
	PendingIn       int `json:"pending_in"`
	OfflineMessages int `json:"offline_messages"`
	VCards          int `json:"vcards"`
	PrivateItems    int `json:"private_items"`
	PrivacyUsers    int `json:"privacy_users"`
	PrivacyLists    int `json:"privacy_lists"`
	LastLogouts     int `json:"last_logouts"`
	// RostersVersionBehind counts imported rosters whose new version is below the
	// exported one (Import only; see the package doc). Not part of the trailer.
	RostersVersionBehind int `json:"-"`
}

// String is a one-line account of the counts.
func (s Summary) String() string {
	return fmt.Sprintf("%d accounts, %d rosters (%d items, %d pending requests), %d offline messages, %d vCards, %d private XML items, %d users' privacy lists (%d lists), %d last-activity records",
		s.Accounts, s.Rosters, s.RosterItems, s.PendingIn, s.OfflineMessages, s.VCards, s.PrivateItems, s.PrivacyUsers, s.PrivacyLists, s.LastLogouts)
}

// sameCounts compares the counts a trailer carries.
func (s Summary) sameCounts(o Summary) bool {
	s.RostersVersionBehind, o.RostersVersionBehind = 0, 0
	return s == o
}

func keysOut(k *backends.ScramKeys) *keysRec {
	if k == nil {
		return nil
	}
	return &keysRec{Salt: k.Salt, Iterations: k.Iterations, StoredKey: k.StoredKey, ServerKey: k.ServerKey}
}

func keysIn(k *keysRec) *backends.ScramKeys {
	if k == nil {
		return nil
	}
	return &backends.ScramKeys{Salt: k.Salt, Iterations: k.Iterations, StoredKey: k.StoredKey, ServerKey: k.ServerKey}
}

func accountOut(a backends.Account) *accountRec {
	c := &a.Credentials
	return &accountRec{Created: a.Created.Unix(), SHA1: keysOut(c.SHA1), SHA256: keysOut(c.SHA256), SHA512: keysOut(c.SHA512)}
}

func accountIn(domain, user string, r *accountRec) backends.Account {
	return backends.Account{
		Domain: domain, User: user,
		Credentials: backends.Credentials{SHA1: keysIn(r.SHA1), SHA256: keysIn(r.SHA256), SHA512: keysIn(r.SHA512)},
		Created:     time.Unix(r.Created, 0),
	}
}

func itemOut(it backends.RosterItem) itemRec {
	return itemRec{Contact: it.Contact, Name: it.Name, Groups: it.Groups, Subscription: it.Subscription.String(), Ask: it.Ask, Approved: it.Approved}
}

func itemIn(r itemRec) (backends.RosterItem, error) {
	sub, ok := backends.ParseSubscription(r.Subscription)
	if !ok {
		return backends.RosterItem{}, fmt.Errorf("roster item %q: unknown subscription %q", r.Contact, r.Subscription)
	}
	return backends.RosterItem{Contact: r.Contact, Name: r.Name, Groups: r.Groups, Subscription: sub, Ask: r.Ask, Approved: r.Approved}, nil
}

// privacyTypes maps the item types back. A table, never modified.
var privacyTypes = map[string]backends.PrivacyItemType{
	"": backends.PrivacyFallThrough, "jid": backends.PrivacyJID, "group": backends.PrivacyGroup, "subscription": backends.PrivacySubscription,
}

func privacyOut(s backends.PrivacySettings) *privacyRec {
	out := &privacyRec{Default: s.Default, Lists: make([]listRec, len(s.Lists))}
	for i, l := range s.Lists {
		lr := listRec{Name: l.Name, Items: make([]privItemRec, len(l.Items))}
		for j, it := range l.Items {
			lr.Items[j] = privItemRec{Type: it.Type.String(), Value: it.Value, Deny: it.Deny, Order: it.Order, Stanzas: uint8(it.Stanzas)}
		}
		out.Lists[i] = lr
	}
	return out
}

func privacyIn(r *privacyRec) (backends.PrivacySettings, error) {
	s := backends.PrivacySettings{Default: r.Default, Lists: make([]backends.PrivacyList, len(r.Lists))}
	for i, lr := range r.Lists {
		l := backends.PrivacyList{Name: lr.Name, Items: make([]backends.PrivacyItem, len(lr.Items))}
		for j, it := range lr.Items {
			t, ok := privacyTypes[it.Type]
			if !ok {
				return s, fmt.Errorf("privacy list %q: unknown item type %q", lr.Name, it.Type)
			}
			l.Items[j] = backends.PrivacyItem{Type: t, Value: it.Value, Deny: it.Deny, Order: it.Order, Stanzas: backends.PrivacyStanzas(it.Stanzas)}
		}
		s.Lists[i] = l
	}
	return s, nil
}
