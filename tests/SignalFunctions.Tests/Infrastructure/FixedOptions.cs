using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SignalFunctions.Flags;

namespace SignalFunctions.Tests.Infrastructure;

/// <summary>Options that never change, for a component that reads <see cref="LiveOptions{T}"/>.</summary>
public static class FixedOptions
{
    public static LiveOptions<T> Live<T>(T value) where T : class =>
        new(new Monitor<T>(value), Options.Create(value), NullLogger<LiveOptions<T>>.Instance);

    private sealed class Monitor<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}
