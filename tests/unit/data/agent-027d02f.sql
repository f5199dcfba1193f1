-- A agent store as created by fedcarbon at commit 027d02f (before issue 12), via sqlite3 iterdump.
BEGIN TRANSACTION;
CREATE TABLE budgetspend (
	campaign_id VARCHAR NOT NULL, 
	period VARCHAR NOT NULL, 
	kind VARCHAR NOT NULL, 
	epsilon FLOAT NOT NULL, 
	delta FLOAT NOT NULL, 
	spent_unix_ms BIGINT NOT NULL, 
	PRIMARY KEY (campaign_id)
);
CREATE TABLE enrolment (
	participant_id VARCHAR NOT NULL, 
	coordinator VARCHAR NOT NULL, 
	role VARCHAR NOT NULL, 
	log_id VARCHAR NOT NULL, 
	log_public_key BLOB NOT NULL, 
	enrolled_unix_ms BIGINT NOT NULL, 
	PRIMARY KEY (participant_id)
);
INSERT INTO "enrolment" VALUES('acme-12345678','127.0.0.1:1','supplier','l',X'7070707070707070707070707070707070707070707070707070707070707070',1);
CREATE TABLE pendingsubmission (
	campaign_id VARCHAR NOT NULL, 
	body BLOB NOT NULL, 
	signature BLOB NOT NULL, 
	values_json VARCHAR NOT NULL, 
	PRIMARY KEY (campaign_id)
);
CREATE TABLE submissionrecord (
	campaign_id VARCHAR NOT NULL, 
	submission_id VARCHAR NOT NULL, 
	leaf_index INTEGER NOT NULL, 
	receipt_json VARCHAR NOT NULL, 
	values_json VARCHAR NOT NULL, 
	submitted_unix_ms BIGINT NOT NULL, 
	PRIMARY KEY (campaign_id)
);
COMMIT;
