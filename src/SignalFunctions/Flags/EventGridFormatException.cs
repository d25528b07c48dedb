namespace SignalFunctions.Flags;

/// <summary>The body is not an Event Grid delivery; <see cref="Field"/> says where.</summary>
public sealed class EventGridFormatException(string field, string reason) : FormatException($"{field} {reason}.")
{
    public string Field { get; } = field;
    public string Reason { get; } = reason;
}
