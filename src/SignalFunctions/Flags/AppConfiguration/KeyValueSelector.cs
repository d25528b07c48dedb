namespace SignalFunctions.Flags.AppConfiguration;

/// <summary>
/// Which key-values to list: <see cref="KeyFilter"/> is an exact key or a prefix ending in <c>*</c>;
/// <see cref="Label"/> null means "no label" (sent as <c>%00</c>), <c>*</c> any label, else that label.
/// </summary>
public sealed record KeyValueSelector(string KeyFilter, string? Label = null);
