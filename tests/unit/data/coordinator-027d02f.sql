-- A coordinator store as created by fedcarbon at commit 027d02f (before issue 12), via sqlite3 iterdump.
BEGIN TRANSACTION;
CREATE TABLE aggregaterow (
	campaign_id VARCHAR NOT NULL, 
	ciphertexts BLOB NOT NULL, 
	count INTEGER NOT NULL, 
	contributors INTEGER NOT NULL, 
	contributor_ids VARCHAR NOT NULL, 
	digest BLOB NOT NULL, 
	created_unix_ms BIGINT NOT NULL, 
	PRIMARY KEY (campaign_id)
);
CREATE TABLE campaignrow (
	campaign_id VARCHAR NOT NULL, 
	definition BLOB NOT NULL, 
	state VARCHAR NOT NULL, 
	created_unix_ms BIGINT NOT NULL, 
	PRIMARY KEY (campaign_id)
);
INSERT INTO "campaignrow" VALUES('c1',X'01','open',1);
CREATE TABLE decryptionsharerow (
	campaign_id VARCHAR NOT NULL, 
	trustee_id VARCHAR NOT NULL, 
	body BLOB NOT NULL, 
	signature BLOB NOT NULL, 
	refusal VARCHAR NOT NULL, 
	received_unix_ms BIGINT NOT NULL, 
	PRIMARY KEY (campaign_id, trustee_id)
);
CREATE TABLE enrolmenttoken (
	token_hash VARCHAR NOT NULL, 
	role VARCHAR NOT NULL, 
	label VARCHAR NOT NULL, 
	issued_unix_ms BIGINT NOT NULL, 
	used_unix_ms BIGINT, 
	used_by VARCHAR, 
	PRIMARY KEY (token_hash)
);
CREATE TABLE logleaf (
	leaf_index INTEGER NOT NULL, 
	leaf_hash BLOB NOT NULL, 
	submission_id VARCHAR NOT NULL, 
	PRIMARY KEY (leaf_index)
);
CREATE TABLE noisesharerow (
	campaign_id VARCHAR NOT NULL, 
	trustee_id VARCHAR NOT NULL, 
	body BLOB NOT NULL, 
	signature BLOB NOT NULL, 
	received_unix_ms BIGINT NOT NULL, 
	PRIMARY KEY (campaign_id, trustee_id)
);
CREATE TABLE participant (
	participant_id VARCHAR NOT NULL, 
	organisation VARCHAR NOT NULL, 
	role VARCHAR NOT NULL, 
	identity_key BLOB NOT NULL, 
	encryption_key BLOB NOT NULL, 
	sector VARCHAR NOT NULL, 
	region VARCHAR NOT NULL, 
	size_band VARCHAR NOT NULL, 
	enrolled_unix_ms BIGINT NOT NULL, 
	PRIMARY KEY (participant_id)
);
INSERT INTO "participant" VALUES('acme-12345678','Acme','supplier',X'6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B6B',X'','','','',1);
CREATE TABLE resultrow (
	campaign_id VARCHAR NOT NULL, 
	result BLOB NOT NULL, 
	released_unix_ms BIGINT NOT NULL, 
	PRIMARY KEY (campaign_id)
);
CREATE TABLE sealedsharerow (
	campaign_id VARCHAR NOT NULL, 
	trustee_id VARCHAR NOT NULL, 
	sealed_share BLOB NOT NULL, 
	PRIMARY KEY (campaign_id, trustee_id)
);
CREATE TABLE submissionrow (
	submission_id VARCHAR NOT NULL, 
	campaign_id VARCHAR NOT NULL, 
	participant_id VARCHAR NOT NULL, 
	entry BLOB NOT NULL, 
	leaf_index INTEGER NOT NULL, 
	accepted_unix_ms BIGINT NOT NULL, 
	PRIMARY KEY (submission_id), 
	UNIQUE (campaign_id, participant_id)
);
CREATE INDEX ix_campaignrow_state ON campaignrow (state);
CREATE INDEX ix_submissionrow_campaign_id ON submissionrow (campaign_id);
COMMIT;
