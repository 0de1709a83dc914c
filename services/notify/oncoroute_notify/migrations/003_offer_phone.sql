-- Specialists are paged by SMS too for high-urgency offers and escalations.
ALTER TABLE offers ADD COLUMN reviewer_phone text;
