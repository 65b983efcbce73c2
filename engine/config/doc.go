// Package config loads and validates Hermod's configuration file, a TOML document in
// the spirit of MongooseIM's mongooseim.toml (see hermod.example.toml at the
// repository root, which documents every key and its default).
//
// # What it does
//
// [Load] and [Parse] decode the file strictly: an unknown key, a value of the wrong
// type, or a value that [Config.Validate] rejects stops start-up with an [ErrorList]
// whose entries name the file, the line and the key ("hermod.toml:12:7:
// listen.c2s[0].tls: ..."). Keys absent from the file keep the values of [Default];
// entries of arrays of tables ([[listen.c2s]], [[tls.certificates]]) get per-entry
// defaults for the keys they leave out. Durations are strings ("30s", "5m").
//
// Module tables ([modules.<name>]) are kept opaque; a module decodes its own table
// with [Config.DecodeModule], which applies the same strictness and reports the same
// file-and-line errors, and reports semantic problems with [Config.ModuleError].
//
// # What it must not do
//
// It opens no socket, starts no goroutine and reads no file other than the one given
// to [Load] ([Config.CheckFiles] only stats the certificate files). It holds no
// package-level mutable state. A *Config is built by one goroutine; once handed to the
// server it is read-only and may then be read from any goroutine.
package config
