-- Allow the scraper's "missing" connection status: a house that an earlier scrape cycle listed and
-- the portal's latest house list lacks. The constraint keeps the name PostgreSQL gave it in 0001.

ALTER TABLE house_status DROP CONSTRAINT house_status_connection_status_check;
ALTER TABLE house_status ADD CONSTRAINT house_status_connection_status_check
    CHECK (connection_status IN ('connected', 'offline', 'disconnected', 'unknown', 'missing'));
