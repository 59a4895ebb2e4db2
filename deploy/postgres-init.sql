-- Run once by the postgres image on an empty data directory
-- (/docker-entrypoint-initdb.d), as POSTGRES_USER, who owns the databases.
-- One database per service.
CREATE DATABASE gateway;
CREATE DATABASE customers;
CREATE DATABASE leads;
CREATE DATABASE followups;
CREATE DATABASE notifications;
