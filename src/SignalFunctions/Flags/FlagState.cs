namespace SignalFunctions.Flags;

/// <summary>
/// The flags this instance obeys right now. Swapped whole, never edited, so a request that took
/// the snapshot at its start sees one consistent set of stages until it ends.
/// <paramref name="applied"/> hears of every snapshot applied (the store's settings follow it).
/// </summary>
public sealed class FlagState(TimeProvider clock, Action<FlagSnapshot>? applied = null)
{
    private FlagSnapshot? _current;

    /// <summary>Null until the first load: ingest must not guess a stage (it answers 503).</summary>
    public FlagSnapshot? Current => Volatile.Read(ref _current);

    public string? LastError { get; private set; }

    public TimeSpan? Age => Current is { } snapshot ? clock.GetUtcNow() - snapshot.LoadedAt : null;

    public void Apply(FlagSnapshot snapshot)
    {
        Volatile.Write(ref _current, snapshot);
        LastError = null;
        applied?.Invoke(snapshot);
    }

    public void Failed(string error) => LastError = error;
}
