-- Hermod schema, version 0001: every table of backends.Store.
--
-- Users, domains, contacts, list names and namespaces are VARBINARY: stores treat them
-- as opaque byte strings and list them in byte-wise order. Text meant for people
-- (roster handles, groups, status) is utf8mb4 with a binary collation. Keys too long
-- for an InnoDB index (3072 bytes) use owner, SHA-256 of the length-prefixed
-- (domain, user) pair, computed by the store.
--
-- Every statement is re-runnable (IF NOT EXISTS), so a migration cut short can be
-- applied again.

CREATE TABLE IF NOT EXISTS accounts (
	domain VARBINARY(1023) NOT NULL,
	user VARBINARY(1023) NOT NULL,
	created BIGINT NOT NULL COMMENT 'unix seconds',
	sha1_salt VARBINARY(255) NULL,
	sha1_iterations INT NULL,
	sha1_stored_key VARBINARY(64) NULL,
	sha1_server_key VARBINARY(64) NULL,
	sha256_salt VARBINARY(255) NULL,
	sha256_iterations INT NULL,
	sha256_stored_key VARBINARY(64) NULL,
	sha256_server_key VARBINARY(64) NULL,
	sha512_salt VARBINARY(255) NULL,
	sha512_iterations INT NULL,
	sha512_stored_key VARBINARY(64) NULL,
	sha512_server_key VARBINARY(64) NULL,
	PRIMARY KEY (domain, user)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

-- Roster versions come from one sequence, so that a roster deleted and created again
-- never repeats a version a client may have cached.
CREATE SEQUENCE IF NOT EXISTS roster_versions START WITH 1 INCREMENT BY 1 CACHE 1000 ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS rosters (
	owner BINARY(32) NOT NULL,
	domain VARBINARY(1023) NOT NULL,
	user VARBINARY(1023) NOT NULL,
	version BIGINT UNSIGNED NOT NULL,
	PRIMARY KEY (owner)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

CREATE TABLE IF NOT EXISTS roster_items (
	owner BINARY(32) NOT NULL,
	contact VARBINARY(2047) NOT NULL,
	name VARCHAR(1023) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	grps MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL COMMENT 'JSON array',
	subscription TINYINT UNSIGNED NOT NULL,
	ask BOOLEAN NOT NULL,
	approved BOOLEAN NOT NULL,
	PRIMARY KEY (owner, contact)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

CREATE TABLE IF NOT EXISTS roster_pending_in (
	owner BINARY(32) NOT NULL,
	contact VARBINARY(2047) NOT NULL,
	stanza BLOB NOT NULL,
	PRIMARY KEY (owner, contact)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

CREATE TABLE IF NOT EXISTS privacy_users (
	domain VARBINARY(1023) NOT NULL,
	user VARBINARY(1023) NOT NULL,
	default_list VARBINARY(1023) NOT NULL,
	PRIMARY KEY (domain, user)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

CREATE TABLE IF NOT EXISTS privacy_lists (
	domain VARBINARY(1023) NOT NULL,
	user VARBINARY(1023) NOT NULL,
	name VARBINARY(1023) NOT NULL,
	items MEDIUMBLOB NOT NULL COMMENT 'encoded by backends/mysql/privacy.go',
	PRIMARY KEY (domain, user, name)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

CREATE TABLE IF NOT EXISTS vcards (
	domain VARBINARY(1023) NOT NULL,
	user VARBINARY(1023) NOT NULL,
	vcard MEDIUMBLOB NOT NULL,
	PRIMARY KEY (domain, user)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

CREATE TABLE IF NOT EXISTS private_xml (
	domain VARBINARY(1023) NOT NULL,
	user VARBINARY(1023) NOT NULL,
	namespace VARBINARY(1023) NOT NULL,
	xml MEDIUMBLOB NOT NULL,
	PRIMARY KEY (domain, user, namespace)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

CREATE TABLE IF NOT EXISTS last_activity (
	domain VARBINARY(1023) NOT NULL,
	user VARBINARY(1023) NOT NULL,
	at BIGINT NOT NULL COMMENT 'unix seconds',
	status TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
	PRIMARY KEY (domain, user)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

-- One head per account with queued messages: the last Seq given and how many messages
-- wait. Appends and deletes lock it first, so Seq and the limit stay exact.
CREATE TABLE IF NOT EXISTS offline_heads (
	domain VARBINARY(1023) NOT NULL,
	user VARBINARY(1023) NOT NULL,
	last_seq BIGINT UNSIGNED NOT NULL,
	queued INT UNSIGNED NOT NULL,
	PRIMARY KEY (domain, user)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;

CREATE TABLE IF NOT EXISTS offline_messages (
	domain VARBINARY(1023) NOT NULL,
	user VARBINARY(1023) NOT NULL,
	seq BIGINT UNSIGNED NOT NULL,
	stamp BIGINT NOT NULL COMMENT 'unix milliseconds',
	raw MEDIUMBLOB NOT NULL,
	PRIMARY KEY (domain, user, seq)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC;
