using System.Diagnostics.CodeAnalysis;
using Azure;
using Azure.Core;
using SignalFunctions.Flags;
using SignalFunctions.Flags.AppConfiguration;

namespace SignalFunctions.Tests.Flags;

/// <summary>
/// The refresher's backoff after failed reads (doubling from the refresh interval to two minutes,
/// ±20 % jitter, never sooner than the server asked) and the server's wait as the client reads it
/// from retry-after-ms, x-ms-retry-after-ms and Retry-After (seconds or an HTTP date).
/// </summary>
public sealed class RetryBackoffTests
{
    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 10)]
    [InlineData(3, 20)]
    [InlineData(5, 80)]
    [InlineData(6, 120)] // 160 s, capped at two minutes
    [InlineData(40, 120)]
    public void The_backoff_doubles_per_failure_up_to_two_minutes_within_20_percent_jitter(int failures, double centreSeconds)
    {
        var waits = Enumerable.Range(0, 2000)
            .Select(_ => AppConfigurationFlagRefresher.Backoff(TimeSpan.FromSeconds(5), failures, serverWait: null).TotalSeconds)
            .ToList();

        Assert.All(waits, w => Assert.InRange(w, centreSeconds * 0.8, centreSeconds * 1.2));
        // Jitter really spreads the instances: both halves of the band are used.
        Assert.Contains(waits, w => w < centreSeconds * 0.95);
        Assert.Contains(waits, w => w > centreSeconds * 1.05);
        Assert.True(AppConfigurationFlagRefresher.MaxBackoff == TimeSpan.FromMinutes(2));
    }

    [Fact]
    public void A_server_wait_longer_than_the_backoff_wins_and_a_shorter_one_does_not()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), AppConfigurationFlagRefresher.Backoff(TimeSpan.FromSeconds(5), 1, TimeSpan.FromSeconds(30)));
        Assert.InRange(AppConfigurationFlagRefresher.Backoff(TimeSpan.FromSeconds(5), 1, TimeSpan.FromMilliseconds(200)).TotalSeconds, 4, 6);
    }

    [Theory]
    [InlineData("retry-after-ms", "1500", 1500)]
    [InlineData("x-ms-retry-after-ms", "250.5", 250.5)]
    [InlineData("Retry-After", "7", 7000)]
    public void The_server_wait_is_read_from_each_header(string header, string value, double expectedMilliseconds)
    {
        var wait = CappedRetryPolicy.ServerDelay(new HeadersOnly((header, value)));

        Assert.Equal(expectedMilliseconds, wait!.Value.TotalMilliseconds, 3);
    }

    [Fact]
    public void Retry_after_ms_wins_over_retry_after_and_an_http_date_counts_from_now()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(300), CappedRetryPolicy.ServerDelay(new HeadersOnly(("Retry-After", "9"), ("retry-after-ms", "300"))));

        var at = DateTimeOffset.UtcNow.AddSeconds(20).ToString("r", System.Globalization.CultureInfo.InvariantCulture);
        var wait = CappedRetryPolicy.ServerDelay(new HeadersOnly(("Retry-After", at)));
        Assert.InRange(wait!.Value.TotalSeconds, 18, 20.01);
    }

    [Theory]
    [InlineData("retry-after-ms", "soon")]
    [InlineData("Retry-After", "-3")]
    [InlineData("Retry-After", "")]
    [InlineData("x-other", "100")]
    public void Garbage_or_no_header_is_no_server_wait(string header, string value) =>
        Assert.Null(CappedRetryPolicy.ServerDelay(new HeadersOnly((header, value))));

    /// <summary>A 429 with the given headers and no body.</summary>
    private sealed class HeadersOnly(params (string Name, string Value)[] headers) : Response
    {
        public override int Status => 429;
        public override string ReasonPhrase => "Too Many Requests";
        public override Stream? ContentStream { get; set; }
        public override string ClientRequestId { get; set; } = "";

        public override void Dispose()
        {
        }

        protected override bool ContainsHeader(string name) => headers.Any(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase));

        protected override IEnumerable<HttpHeader> EnumerateHeaders() => headers.Select(h => new HttpHeader(h.Name, h.Value));

        protected override bool TryGetHeader(string name, [NotNullWhen(true)] out string? value)
        {
            value = headers.FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Value;
            return value is not null;
        }

        protected override bool TryGetHeaderValues(string name, [NotNullWhen(true)] out IEnumerable<string>? values)
        {
            values = TryGetHeader(name, out var value) ? [value] : null;
            return values is not null;
        }
    }
}
