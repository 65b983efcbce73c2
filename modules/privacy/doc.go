// Package privacy is mod_privacy: privacy lists (XEP-0016) and, on the same stored
// lists, the blocking command (XEP-0191), with their enforcement on every stanza a
// user sends or receives.
//
// # Data
//
// A user's lists live in the store (backends.Privacy). In memory the module keeps, per
// account, the default list compiled for matching, per session the active list, and,
// while a list in use matches on roster groups or subscriptions, a view of the roster
// (subscription and groups per contact). Compiled lists and roster views are immutable
// and swapped atomically: the hooks that read them run on event loops and take no
// lock. Default lists are loaded for every account at start-up, so that a message for
// a user without a session is refused or stored without reading storage on a loop;
// they are refreshed at each login and after each edit.
//
// # Enforcement
//
//   - A stanza a user sends: the user's list (presence-out items for presence
//     notifications, items without children for everything), then, for iq get/set to
//     a bare JID and for subscription requests and probes, which the server handles on
//     the addressee's behalf, the addressee's default list.
//   - A stanza about to be delivered to a session: the session's active list, else the
//     default list (message, iq, presence-in items; items without children for all).
//   - A message for a user with no available resource: the default list, before
//     offline storage.
//
// Refusals follow XEP-0016 section 2.13 and XEP-0191 section 3.3: inbound messages and
// iq requests get service-unavailable, presence is dropped silently, outbound stanzas
// get not-acceptable (with <blocked xmlns='urn:xmpp:blocking:errors'/> when a block
// item decided). Stanzas between a user's own resources are never blocked. When a
// change of the lists in force starts denying presence-out to a subscriber, the
// subscriber gets unavailable presence; when it stops, the current presence (XEP-0016
// section 2.11, XEP-0191 sections 3.3 and 3.4).
//
// # Events for other modules
//
// Stanzas that other modules generate and deliver with Host.Route bypass the hooks
// above. A module that sends presence on a user's behalf asks first:
//
//	denied := h.Fire(engine.Event{Name: privacy.EventCheckOut, User: owner,
//		Data: &engine.Stanza{Header: hdr, To: contact, Session: sessOrNil}})
//	denied := h.Fire(engine.Event{Name: privacy.EventCheckIn, User: recipient,
//		Data: &engine.Stanza{Header: hdr, From: sender, Session: sessOrNil}})
//
// Fire reports true when the lists deny the stanza. When the roster module fires
// EventRosterChanged (Event.User the roster's owner), lists that match on the roster
// see the change (XEP-0016 rule 9).
//
// # What it must not do
//
// It must not read the store on an event loop, keep a roster copy for users whose
// lists do not need one, or block a stanza between two resources of one account.
package privacy
