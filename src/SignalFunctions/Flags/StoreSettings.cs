using Microsoft.Extensions.Options;
using SignalFunctions.Stages;

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

/// <summary>
/// Options that follow <see cref="StoreSettings"/> at run time. A value the store holds that fails
/// validation is not applied: the last valid options stay in force (from the start-up ones on), and
/// the rejection is logged once per change, as a rejected flag keeps its previous stage.
/// </summary>
public sealed partial class LiveOptions<T>(IOptionsMonitor<T> monitor, IOptions<T> startup, ILogger<LiveOptions<T>> logger)
    where T : class
{
    private T? _lastValid;
    private string? _lastRejection;

    public T Value
    {
        get
        {
            try
            {
                _lastValid = monitor.CurrentValue;
                _lastRejection = null;
            }
            catch (OptionsValidationException ex)
            {
                if (ex.Message != _lastRejection)
                {
                    _lastRejection = ex.Message;
                    LogRejected(typeof(T).Name, ex.Message);
                }
            }
            return _lastValid ??= startup.Value;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Settings from the flag store rejected for {Options}, the last valid ones stay in force: {Reason}")]
    private partial void LogRejected(string options, string reason);
}
