namespace SignalFunctions.DevHost;

/// <summary>A problem the operator can fix (a setting, a path, a worker that would not start): printed without a stack trace.</summary>
public sealed class DevHostException(string message) : Exception(message);
