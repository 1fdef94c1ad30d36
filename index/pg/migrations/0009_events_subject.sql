-- Events by subject: a subject shared by few events (--subject 'order
-- #1234' at 10M events: 29 subjects, a few hundred events) was found by
-- reading the whole time index backwards, each row's heap tuple fetched to
-- test its id: 47 s. Other texts are few (senders, IPs, tag sets) and
-- their events many, or rarely searched alone.
CREATE INDEX events_subject ON events(subject_id);
