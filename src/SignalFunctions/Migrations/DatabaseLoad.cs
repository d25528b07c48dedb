namespace SignalFunctions.Migrations;

/// <summary>
/// How loaded the database is, as a background job should see it: too busy for another batch at all
/// (active backends, lock waits, replica lag), or merely serving other sessions, which the backfill
/// then leaves room for.
/// </summary>
public sealed record DatabaseLoad(string? BusyReason, long OthersAtWork);
