namespace SignalFunctions.Ingest;

public sealed class EventParseResult
{
    public List<SignalEvent> Events { get; } = [];
    public ValidationErrors Errors { get; } = new();
    public bool IsValid => Errors.IsEmpty;
}
