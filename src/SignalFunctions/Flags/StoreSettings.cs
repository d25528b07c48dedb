namespace SignalFunctions.Flags;

/// <summary>
/// The plain settings of the flag store (App Configuration key-values under "SignalFunctions:", e.g.
/// "SignalFunctions:Guard:MaxErrorRate") as the top layer of the app's configuration: each applied
/// snapshot replaces the layer whole and raises a reload, so <see cref="LiveOptions{T}"/> readers
/// follow a change without a restart, and a key deleted from the store falls back to the app setting.
/// </summary>
public sealed class StoreSettings : ConfigurationProvider, IConfigurationSource
{
    private IReadOnlyDictionary<string, string> _applied = new Dictionary<string, string>();

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    public void Apply(FlagSnapshot snapshot)
    {
        var settings = snapshot.Settings;
        if (settings.Count == _applied.Count && settings.All(s => _applied.TryGetValue(s.Key, out var v) && v == s.Value))
        {
            return; // most snapshots change flags only: readers keep their options objects
        }
        _applied = settings;
        Data = settings.ToDictionary(s => s.Key, s => (string?)s.Value, StringComparer.OrdinalIgnoreCase);
        try
        {
            OnReload();
        }
        catch (AggregateException)
        {
            // An options monitor rebuilt its options at once and they failed validation. Every
            // listener has still been told; LiveOptions reports the rejection when next read. The
            // flags of this snapshot must apply regardless.
        }
    }
}
