namespace SignalFunctions.DevHost.Worker;

/// <summary>An HTTP trigger as the worker declared it; Route is under the host's route prefix.</summary>
public sealed record HttpTriggerInfo(string BindingName, string Route, IReadOnlyList<string> Methods, string AuthLevel);
