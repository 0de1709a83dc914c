"""The SQL behind `_history.py`, in the order it runs. Placeholders: {lo}..{hi} case numbers,
{open} open cases, {t0} now, {quads} reviewers per tumour group / 4, {groups} the groups.

Scratch tables (`growth.*`, unlogged, dropped after): `base` one row per case, `seat` one per
seat, `asg` one per assignment, `ev` every event in time order.
"""

# A case's attributes come from 48 bits of md5 so that group, tier, mix and timing do not
# correlate with each other or with the case number.
DERIVE = [
    """CREATE UNLOGGED TABLE growth.base AS
    SELECT x.*, {t0} - CASE WHEN x.is_open THEN make_interval(secs => x.u * 1.05 * x.t)
                          ELSE interval '3 days' + make_interval(secs => (x.n - {open}) * 60)
                       END AS opened_at,
           CASE WHEN x.kind = 'met' THEN 0.15 + 0.95 * x.u * x.u
                WHEN x.kind = 'cancelled' THEN 0.2 + 0.5 * x.u
                ELSE 1.05 * x.u END AS f,
           CASE WHEN x.fast THEN 3600 ELSE 14400 END AS acc
    FROM (SELECT n, h, case_id, n <= {open} AS is_open, ({groups})[h % 12 + 1] AS grp,
                 (h % 12)::int AS gi, fast,
                 CASE WHEN fast THEN 'fast_progressing' ELSE 'standard' END AS tier,
                 CASE WHEN fast THEN 86400.0 ELSE 172800.0 END::float8 AS t,
                 'hospital-' || lpad(((h / 120000) % 20)::text, 2, '0') AS source,
                 CASE WHEN n <= {open} THEN
                          CASE WHEN NOT fast AND mix < 5 THEN 'waiting'
                               WHEN mix < 20 THEN 'offered'
                               WHEN mix < 25 THEN 'unmatched' ELSE 'accepted' END
                      WHEN mix < 4 THEN 'cancelled' ELSE 'met' END AS kind,
                 ((h / 1200) % 1000 + 0.5) / 1000.0 AS u,
                 CASE WHEN (h / 1200000) % 4 = 0 THEN 2 ELSE 1 END AS seats
          FROM (SELECT n, h, md5('case:' || n)::uuid::text AS case_id,
                       (h / 12) % 10 = 0 AS fast, ((h / 120) % 100)::int AS mix
                FROM (SELECT n, ('x' || substr(md5('case:' || n), 1, 12))::bit(48)::bigint AS h
                      FROM generate_series({lo}, {hi}) n) hashed) y) x""",
    """ALTER TABLE growth.base ADD COLUMN stopped_at timestamptz""",
    """UPDATE growth.base SET stopped_at = opened_at + make_interval(secs => f * t)
       WHERE kind IN ('met', 'cancelled')""",
    # Reviewer i = group + 12 k, role pair (k % 4): 0, 1 medical, 2 pathology (see roster).
    """CREATE UNLOGGED TABLE growth.seat AS
    SELECT b.*, s, CASE s WHEN 1 THEN 'disease_specialist' ELSE 'pathologist' END AS seat,
           CASE WHEN s = 1 AND b.grp = 'haematologic'
                    THEN ARRAY['haematologist', 'paediatric_oncologist']
                WHEN s = 1 THEN ARRAY['medical_oncologist', 'paediatric_oncologist']
                WHEN b.grp = 'haematologic' THEN ARRAY['haematopathologist']
                ELSE ARRAY['pathologist'] END AS roles,
           'sp-' || lpad((b.gi + 12 * (4 * ((b.n * 13 + s) % {quads})
                          + CASE s WHEN 1 THEN b.n % 2 ELSE 2 END))::text, 5, '0') AS reviewer,
           'sp-' || lpad((b.gi + 12 * (4 * ((b.n * 13 + s) % {quads}) + 1 - b.n % 2))::text,
                         5, '0') AS first_reviewer,
           md5('asg:' || b.n || ':' || s)::uuid::text AS assignment_id,
           md5('exp:' || b.n || ':' || s)::uuid::text AS expired_id,
           s = 1 AND NOT b.is_open AND b.h % 10 = 3 AS had_expiry,
           CASE WHEN b.kind = 'offered'
                    THEN least(greatest(b.opened_at + interval '60 s',
                                        {t0} - make_interval(secs => b.acc / 2)), {t0})
                WHEN NOT b.is_open AND s = 1 AND b.h % 10 = 3
                    THEN b.opened_at + make_interval(secs => 60 + b.acc + s)
                ELSE b.opened_at + make_interval(secs => 60 + s) END AS offered_at
    FROM growth.base b, generate_series(1, b.seats) s""",
    """CREATE UNLOGGED TABLE growth.asg AS
    SELECT s.n, s.case_id, s.seat, s.reviewer AS specialist_id, s.assignment_id, s.tier, s.grp,
           s.kind, CASE s.kind WHEN 'offered' THEN 'offered' WHEN 'accepted' THEN 'accepted'
                               WHEN 'met' THEN 'completed' ELSE 'released' END AS status,
           s.offered_at,
           CASE WHEN s.kind <> 'offered'
                THEN least(s.offered_at + interval '20 min', {t0}) END AS accepted_at,
           CASE WHEN s.kind = 'met' THEN s.stopped_at END AS completed_at,
           coalesce(s.stopped_at, least(s.offered_at + interval '20 min', {t0})) AS updated_at
    FROM growth.seat s WHERE s.kind IN ('offered', 'accepted', 'met', 'cancelled')
    UNION ALL
    SELECT s.n, s.case_id, s.seat, s.first_reviewer, s.expired_id, s.tier, s.grp, s.kind,
           'expired', s.opened_at + interval '60 s', NULL, NULL,
           s.opened_at + make_interval(secs => 60 + s.acc)
    FROM growth.seat s WHERE s.had_expiry""",
]

_STEPS = """(VALUES ('warning:0.5', 0.5), ('warning:0.75', 0.75), ('escalation:1', 0.75),
                    ('escalation:2', 0.9), ('breach', 1.0)) st(name, frac)"""

SERVICES = [
    """INSERT INTO intake.cases (case_id, source, external_id, status, tier, tumor_group,
        fast_progressing, rule, needs_triage, submission, opened_at, updated_at,
        missing_records, matched_on, closed_at, close_reason)
    SELECT case_id, source, 'ext-' || n,
           CASE kind WHEN 'waiting' THEN 'awaiting_records' WHEN 'cancelled' THEN 'closed'
                     ELSE 'ready' END, tier, grp, fast,
           CASE WHEN fast THEN 'acute_leukaemia' ELSE 'default_standard' END, false,
           jsonb_build_object('source', source, 'external_id', 'ext-' || n, 'urgent', false,
               'patient', jsonb_build_object('reference', 'P' || n, 'age', 30 + n % 50,
                   'sex', CASE WHEN n % 2 = 0 THEN 'female' ELSE 'male' END,
                   'language', 'en', 'country', 'GB', 'timezone', NULL,
                   'contact', jsonb_build_object('email', 'patient-' || n || '@example.org',
                                                 'phone', NULL),
                   'consent', jsonb_build_object('email', true, 'sms', false)),
               'diagnosis', jsonb_build_object('icd10', 'C' || (10 + gi * 7) || '.9',
                                               'icd_o3_morphology', '8140/3'),
               'reasons', jsonb_build_array('confirm_diagnosis'),
               'records', jsonb_build_array(jsonb_build_object(
                   'kind', 'pathology_report', 'uri', 'https://records.example.org/' || n))),
           opened_at, coalesce(stopped_at, opened_at),
           CASE kind WHEN 'waiting' THEN '["staging_imaging"]'::jsonb ELSE '[]'::jsonb END,
           'icd10', CASE kind WHEN 'cancelled' THEN stopped_at END,
           CASE kind WHEN 'cancelled' THEN 'withdrawn' END
    FROM growth.base ORDER BY n DESC""",
    """INSERT INTO matcher.cases (case_id, tier, fast_progressing, tumor_group, icd10,
        patient_region, first_opinion_physician, first_opinion_institution, opened_at,
        deadline, routable, status, updated_at)
    SELECT case_id, tier, fast, grp, 'C' || (10 + gi * 7) || '.9', 'GB', 'fop-' || n % 3000,
           'Inst ' || (n * 7) % 200, opened_at, opened_at + make_interval(secs => t),
           kind <> 'waiting', CASE kind WHEN 'met' THEN 'opinion_ready'
                                        WHEN 'cancelled' THEN 'closed' ELSE 'open' END,
           coalesce(stopped_at, opened_at)
    FROM growth.base ORDER BY n DESC""",
    """INSERT INTO matcher.seats (case_id, seat, role, tumor_group, tier, status,
        first_opinion_physician, first_opinion_institution, created_at, roles, require_expert,
        fast_progressing, deadline, unmatched_reasons, unmatched_since, updated_at)
    SELECT case_id, seat, array_to_string(roles, '|'), grp, tier,
           CASE kind WHEN 'waiting' THEN 'waiting' WHEN 'unmatched' THEN 'waiting'
                     WHEN 'offered' THEN 'offered' WHEN 'accepted' THEN 'accepted'
                     WHEN 'met' THEN 'completed' ELSE 'released' END,
           'fop-' || n % 3000, 'Inst ' || (n * 7) % 200, opened_at + interval '1 s', roles,
           false, fast, opened_at + make_interval(secs => t),
           CASE kind WHEN 'unmatched' THEN '{{"no_capacity": 4, "same_institution": 1}}'::jsonb
           END,
           CASE kind WHEN 'unmatched' THEN opened_at + interval '60 s' END,
           coalesce(stopped_at, offered_at)
    FROM growth.seat ORDER BY n DESC, s""",
    """INSERT INTO matcher.assignments (assignment_id, case_id, seat, specialist_id, status,
        offered_at, updated_at, reason, accepted_at, completed_at, diagnosis, treatment_plan,
        summary, report_uri)
    SELECT assignment_id, case_id, seat, specialist_id, status, offered_at, updated_at,
           CASE status WHEN 'expired' THEN 'acceptance_timeout'
                       WHEN 'released' THEN 'case_closed' END, accepted_at, completed_at,
           CASE status WHEN 'completed' THEN 'confirmed' END,
           CASE status WHEN 'completed' THEN 'agreed' END,
           CASE status WHEN 'completed' THEN 'Synthetic opinion.' END,
           CASE status WHEN 'completed' THEN 'https://reports.example.org/' || n END
    FROM growth.asg ORDER BY offered_at""",
    """INSERT INTO sla.clocks (case_id, tier, tumor_group, state, opened_at, started_at,
        deadline, turnaround_seconds, case_status, paused_seconds, stopped_at, on_time,
        actual_turnaround_seconds, source)
    SELECT case_id, tier, grp, CASE kind WHEN 'waiting' THEN 'waiting' WHEN 'met' THEN 'met'
                                         WHEN 'cancelled' THEN 'cancelled' ELSE 'running' END,
           opened_at, CASE WHEN kind <> 'waiting' THEN opened_at END,
           CASE WHEN kind <> 'waiting' THEN opened_at + make_interval(secs => t) END, t,
           CASE kind WHEN 'waiting' THEN 'awaiting_records' ELSE 'ready' END, 0, stopped_at,
           CASE kind WHEN 'met' THEN f <= 1 END, CASE kind WHEN 'met' THEN f * t END, source
    FROM growth.base ORDER BY n DESC""",
    """INSERT INTO sla.offers (assignment_id, case_id, seat, reviewer_id, tier, status,
        offered_at, updated_at, tumor_group, reviewer_name, max_active)
    SELECT assignment_id, case_id, seat, specialist_id, tier, status, offered_at, updated_at,
           grp, 'Dr Growth ' || substr(specialist_id, 4)::int, 1000
    FROM growth.asg ORDER BY offered_at""",
    """INSERT INTO sla.unmatched_seats (case_id, seat, tier, tumor_group, reasons, summary,
        since, updated_at)
    SELECT case_id, seat, tier, grp, '{{"no_capacity": 4, "same_institution": 1}}'::jsonb,
           'every reviewer of the group is at capacity or from the first institution',
           opened_at + interval '60 s', {t0}
    FROM growth.seat WHERE kind = 'unmatched'""",
    """INSERT INTO notify.cases (case_id, facts, created_at, updated_at)
    SELECT case_id, jsonb_build_object('case_id', case_id, 'tier', tier, 'source', source,
               'status', 'ready', 'language', 'en', 'timezone', 'UTC', 'consent_sms', false,
               'consent_email', true, 'external_id', 'ext-' || n, 'tumor_group', grp,
               'callback_url', NULL, 'patient_email', 'patient-' || n || '@example.org',
               'patient_phone', NULL, 'referring_name', NULL, 'missing_records', '[]'::jsonb,
               'referring_email', 'referrer-' || n % 500 || '@example.org',
               'first_opinion_name', NULL, 'first_opinion_email', NULL),
           opened_at, coalesce(stopped_at, opened_at)
    FROM growth.base ORDER BY n DESC""",
    """INSERT INTO notify.offers (assignment_id, case_id, seat, reviewer_id, reviewer_name,
        reviewer_email, status, updated_at)
    SELECT assignment_id, case_id, seat, specialist_id,
           'Dr Growth ' || substr(specialist_id, 4)::int, specialist_id || '@example.org',
           CASE status WHEN 'released' THEN 'withdrawn' ELSE status END, updated_at
    FROM growth.asg ORDER BY offered_at""",
]

EVENTS = [
    # sla's timers: fired clock steps (all of them armed too while a case is open), repeats of
    # the last escalation level, expedites, acceptance timers, records reminders.
    f"""INSERT INTO sla.timers (case_id, step, due_at, fired_at)
    SELECT b.case_id, st.name, b.opened_at + make_interval(secs => st.frac * b.t),
           CASE WHEN st.frac < b.f
                THEN b.opened_at + make_interval(secs => st.frac * b.t + 0.05) END
    FROM growth.base b CROSS JOIN {_STEPS}
    WHERE b.kind <> 'waiting' AND (b.is_open OR st.frac < b.f)
    UNION ALL
    SELECT b.case_id, 'escalation:2:repeat:' || r,
           b.opened_at + make_interval(secs => 0.9 * b.t + r * 14400),
           CASE WHEN 0.9 * b.t + r * 14400 < b.f * b.t
                THEN b.opened_at + make_interval(secs => 0.9 * b.t + r * 14400 + 0.05) END
    FROM growth.base b,
         generate_series(1, floor((b.f - 0.9) * b.t / 14400)::int + b.is_open::int) r
    WHERE b.kind <> 'waiting' AND b.f > 0.9
    UNION ALL
    SELECT case_id, 'expedite', opened_at, opened_at + interval '0.05 s'
    FROM growth.base WHERE fast
    UNION ALL
    SELECT case_id, 'acceptance:' || assignment_id,
           offered_at + make_interval(secs => acc), NULL
    FROM growth.seat WHERE kind = 'offered'
    UNION ALL
    SELECT case_id, 'acceptance:' || expired_id,
           opened_at + make_interval(secs => 60 + acc),
           opened_at + make_interval(secs => 60 + acc + 0.05)
    FROM growth.seat WHERE had_expiry
    UNION ALL
    SELECT b.case_id, 'records:' || r, b.opened_at + make_interval(secs => r * 86400),
           CASE WHEN r * 86400 < b.f * b.t
                THEN b.opened_at + make_interval(secs => r * 86400 + 0.05) END
    FROM growth.base b, generate_series(1, floor(b.f * b.t / 86400)::int + 1) r
    WHERE b.kind = 'waiting'""",
    """CREATE UNLOGGED TABLE growth.raw AS SELECT u.*, gen_random_uuid()::text AS event_id
    FROM (SELECT case_id, 'case.opened' AS type, opened_at AS at, NULL::text AS seat,
           NULL::text AS assignment_id, NULL::text AS reviewer FROM growth.base
    UNION ALL SELECT case_id, 'case.closed', stopped_at, NULL, NULL, NULL
              FROM growth.base WHERE kind = 'cancelled'
    UNION ALL SELECT case_id, 'sla.started', opened_at + interval '0.2 s', NULL, NULL, NULL
              FROM growth.base WHERE kind <> 'waiting'
    UNION ALL SELECT case_id, 'case.opinion_ready', stopped_at, NULL, NULL, NULL
              FROM growth.base WHERE kind = 'met'
    UNION ALL SELECT case_id, 'sla.met', stopped_at + interval '0.2 s', NULL, NULL, NULL
              FROM growth.base WHERE kind = 'met'
    UNION ALL SELECT case_id, 'case.unmatched', opened_at + interval '60 s', seat, NULL, NULL
              FROM growth.seat WHERE kind = 'unmatched'
    UNION ALL SELECT case_id, 'assignment.offered', offered_at, seat, assignment_id,
                     specialist_id FROM growth.asg
    UNION ALL SELECT case_id, 'assignment.expired', updated_at, seat, assignment_id,
                     specialist_id FROM growth.asg WHERE status = 'expired'
    UNION ALL SELECT case_id, 'assignment.accepted', accepted_at, seat, assignment_id,
                     specialist_id FROM growth.asg WHERE accepted_at IS NOT NULL
    UNION ALL SELECT case_id, 'assignment.completed', completed_at, seat, assignment_id,
                     specialist_id FROM growth.asg WHERE completed_at IS NOT NULL
    UNION ALL SELECT case_id, CASE WHEN step LIKE 'warning:%' THEN 'sla.warning'
                                   WHEN step = 'breach' THEN 'sla.breached'
                                   WHEN step LIKE 'acceptance:%' THEN 'sla.acceptance_expired'
                                   WHEN step LIKE 'records:%' THEN 'sla.warning'
                                   ELSE 'sla.escalated' END, fired_at, NULL, NULL, NULL
              FROM sla.timers WHERE fired_at IS NOT NULL) u""",
    # What notify sent for each event (one message each; staff get the case's first reviewer).
    """CREATE UNLOGGED TABLE growth.sent AS
    SELECT gen_random_uuid()::text AS delivery_id, r.event_id, r.case_id, r.type, r.at,
           m.audience, m.template,
           CASE m.audience WHEN 'patient' THEN 'patient-' || b.n || '@example.org'
                           WHEN 'specialist' THEN coalesce(r.reviewer, s.reviewer)
                                                  || '@example.org'
                           WHEN 'referring_physician' THEN 'referrer-' || b.n % 500
                                                           || '@example.org'
                           ELSE 'operators@example.org' END AS recipient
    FROM growth.raw r JOIN growth.base b USING (case_id)
    LEFT JOIN growth.seat s ON s.case_id = r.case_id AND s.s = 1
    JOIN (VALUES ('case.opened', 'patient', 'patient_request_received'),
                 ('case.closed', 'patient', 'patient_case_withdrawn'),
                 ('assignment.offered', 'specialist', 'specialist_offer'),
                 ('assignment.accepted', 'patient', 'patient_reviewer_assigned'),
                 ('case.opinion_ready', 'patient', 'patient_opinion_ready'),
                 ('case.opinion_ready', 'referring_physician', 'referrer_opinion_ready'),
                 ('case.unmatched', 'operator', 'operators_unmatched'),
                 ('sla.warning', 'specialist', 'reviewer_sla_warning'),
                 ('sla.escalated', 'tumor_group_lead', 'lead_sla_escalation'),
                 ('sla.breached', 'operator', 'operators_sla_breach'),
                 ('sla.acceptance_expired', 'tumor_group_lead', 'lead_offer_expired'))
         m(type, audience, template) ON m.type = r.type""",
    """INSERT INTO growth.raw (case_id, type, at, event_id)
    SELECT case_id, 'notification.sent', at + interval '1 s', delivery_id FROM growth.sent""",
    # in time order: the timeline's seq (what intake's case view sorts by) follows time
    """CREATE UNLOGGED TABLE growth.ev AS SELECT * FROM growth.raw ORDER BY at""",
]

HISTORY = [
    """INSERT INTO intake.timeline (event_id, case_id, type, source, time, summary)
    SELECT event_id, case_id, 'org.oncoroute.' || type || '.v1',
           'oncoroute/' || CASE split_part(type, '.', 1)
                               WHEN 'case' THEN CASE WHEN type IN ('case.opened', 'case.closed')
                                                     THEN 'intake' ELSE 'matcher' END
                               WHEN 'assignment' THEN 'matcher' WHEN 'sla' THEN 'sla'
                               ELSE 'notify' END,
           at, jsonb_build_object('case_id', case_id, 'seat', seat,
                                  'assignment_id', assignment_id, 'reviewer_id', reviewer)
    FROM growth.ev""",
    """INSERT INTO notify.deliveries (delivery_id, source_event_id, case_id, audience, channel,
        recipient, template, context, status, attempts, due_at, created_at, sent_at,
        source_event_type, urgency, locale, updated_at)
    SELECT delivery_id, event_id, case_id, audience, 'email', recipient, template,
           jsonb_build_object('case_id', case_id, 'case_ref', upper(left(case_id, 8)),
                              'case_url', 'https://oncoroute.example.org/cases/' || case_id,
                              'urgent', false, 'recipient_name', NULL),
           'sent', 1, at, at, at + interval '1 s', 'org.oncoroute.' || type || '.v1',
           CASE WHEN audience IN ('operator', 'tumor_group_lead') THEN 'high' ELSE 'low' END,
           'en', at + interval '1 s'
    FROM growth.sent""",
    """INSERT INTO intake.inbox (consumer, event_id, topic, partition, "offset", processed_at)
    SELECT 'intake.case-submissions', md5('submission:' || case_id), 'case-submissions',
           0, 0, opened_at FROM growth.base
    UNION ALL
    SELECT 'intake.' || t.topic, e.event_id, t.topic, 0, 0, e.at + interval '0.1 s'
    FROM growth.ev e JOIN (VALUES ('sla', 'sla-events'), ('assignment', 'assignments'),
                                  ('notification', 'notifications')) t(prefix, topic)
         ON t.prefix = split_part(e.type, '.', 1)
    UNION ALL
    SELECT 'intake.assignments', event_id, 'assignments', 0, 0, at + interval '0.1 s'
    FROM growth.ev WHERE type IN ('case.opinion_ready', 'case.unmatched')""",
    """INSERT INTO sla.clock_history (case_id, at, what, detail)
    SELECT case_id, at, what, detail FROM (
        SELECT case_id, opened_at AS at, 'opened' AS what,
               jsonb_build_object('tier', tier, 'status', CASE kind WHEN 'waiting'
                   THEN 'awaiting_records' ELSE 'ready' END) AS detail FROM growth.base
        UNION ALL
        SELECT case_id, at + interval '0.1 s', CASE type
                   WHEN 'assignment.offered' THEN 'acceptance_armed'
                   WHEN 'assignment.accepted' THEN 'offer_accepted'
                   WHEN 'assignment.completed' THEN 'offer_completed'
                   ELSE 'offer_expired' END,
               jsonb_build_object('seat', seat, 'reviewer_id', reviewer,
                                  'assignment_id', assignment_id)
        FROM growth.ev WHERE type IN ('assignment.offered', 'assignment.accepted',
                                      'assignment.completed', 'assignment.expired')
        UNION ALL
        SELECT case_id, stopped_at + interval '0.1 s', kind,
               CASE kind WHEN 'met' THEN jsonb_build_object('on_time', f <= 1,
                                                            'turnaround_seconds', f * t)
                         ELSE jsonb_build_object('reason', 'closed') END
        FROM growth.base WHERE kind IN ('met', 'cancelled')) h""",
    """INSERT INTO matcher.inbox (consumer, event_id, topic, partition, "offset", processed_at)
    SELECT 'matcher.cases', event_id, 'cases', 0, 0, at + interval '0.1 s' FROM growth.ev
    WHERE type IN ('case.opened', 'case.closed')
    UNION ALL
    SELECT 'matcher.specialist-actions', md5('action:' || event_id), 'specialist-actions',
           0, 0, at FROM growth.ev
    WHERE type IN ('assignment.accepted', 'assignment.completed')""",
    """INSERT INTO sla.inbox (consumer, event_id, topic, partition, "offset", processed_at)
    SELECT CASE WHEN type IN ('case.opened', 'case.closed') THEN 'sla.cases'
                ELSE 'sla.assignments' END, event_id,
           CASE WHEN type IN ('case.opened', 'case.closed') THEN 'cases' ELSE 'assignments' END,
           0, 0, at + interval '0.1 s' FROM growth.ev
    WHERE type LIKE 'case.%' OR type LIKE 'assignment.%'""",
    """INSERT INTO notify.inbox (consumer, event_id, topic, partition, "offset", processed_at)
    SELECT 'notify.' || topic, event_id, topic, 0, 0, at + interval '0.1 s'
    FROM (SELECT event_id, at, CASE WHEN type IN ('case.opened', 'case.closed') THEN 'cases'
                                    WHEN type LIKE 'sla.%' THEN 'sla-events'
                                    ELSE 'assignments' END AS topic
          FROM growth.ev WHERE type NOT LIKE 'notification.%') e""",
]
