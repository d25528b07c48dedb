namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>The result of a conditional read of one key.</summary>
public enum KeyValueReadStatus
{
    Changed,
    NotModified,
    NotFound,
}
