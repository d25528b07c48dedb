using Microsoft.Extensions.Options;

namespace SignalFunctions.Flags;

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
