using System.Diagnostics;
using Azure.Core.Pipeline;
using SignalFunctions.Flags.AppConfiguration;

namespace SignalFunctions.Tests.AppConfiguration;

/// <summary>
/// The client against the in-process contract server. The server verifies every request (signature,
/// date, content hash, api-version, conditions), so a case passes only if the client spoke the
/// contract; where it matters, a case also checks what the server recorded.
/// </summary>
public sealed class ContractClientTests : IAsyncLifetime
{
    private ContractStore? _store;

    private ContractStore Store => _store ?? throw new InvalidOperationException("The server is not started.");
    private ContractServer Server => Store.Server;

    public async Task InitializeAsync() => _store = await ContractStore.StartAsync();

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }

    private AppConfigurationClient Retrying(int maxRetries, int delayMs, Action<AppConfigurationClientOptions>? more = null) =>
        ClientCases.Client(Store, options =>
        {
            options.Retry.MaxRetries = maxRetries;
            options.Retry.Delay = TimeSpan.FromMilliseconds(delayMs);
            more?.Invoke(options);
        });

    private void AssertEveryRequestAuthenticated() =>
        Assert.All(Server.Requests, request => Assert.Null(request.AuthFailure));

    [Fact]
    public async Task Listing_follows_every_page()
    {
        await ClientCases.Listing_follows_every_page(Store);
        AssertEveryRequestAuthenticated();
        Assert.Equal(2, Server.Requests.Count(r => r.Method == "GET" && r.Target.StartsWith("/kv?", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(NextLinkStyle.HeaderOnly)]
    [InlineData(NextLinkStyle.BodyOnly)]
    public async Task Listing_follows_the_link_header_or_the_next_link_alone(NextLinkStyle style)
    {
        Server.NextLinks = style;
        Server.PageSize = 1;
        var client = ClientCases.Client(Store);
        await ClientCases.WriteKeysAsync(client, Store, "links", 3);

        var listing = await client.ListAsync(new KeyValueSelector("tests/links/*"));

        Assert.Equal(3, listing.Pages.Count);
        Assert.Equal(3, listing.Items.Count());
        AssertEveryRequestAuthenticated();
    }

    [Fact]
    public async Task Unchanged_listing_is_not_modified_on_every_page()
    {
        var (first, _) = await ClientCases.Unchanged_listing_is_not_modified_on_every_page(Store);
        var conditional = Server.Requests.Where(r => r.IfNoneMatch is not null).ToList();

        // One 304 per page, each asked with that page's own ETag, and no full listing after them.
        Assert.Equal(first.Pages.Count, conditional.Count);
        Assert.All(conditional, r => Assert.Equal(304, r.Status));
        Assert.Equal(first.PageETags.Select(etag => $"\"{etag}\""), conditional.Select(r => r.IfNoneMatch));
        Assert.Equal(conditional[^1], Server.Requests[^1]);
    }

    [Fact]
    public async Task A_change_on_the_last_page_is_seen() => await ClientCases.A_change_on_the_last_page_is_seen(Store);

    [Fact]
    public async Task A_new_page_counts_as_a_change()
    {
        var client = ClientCases.Client(Store);
        await ClientCases.WriteKeysAsync(client, Store, "grow", Server.PageSize);
        var selector = new KeyValueSelector("tests/grow/*");
        var first = await client.ListAsync(selector);
        // A key that sorts last lands on a page that did not exist: every old page still answers 304.
        await client.SetAsync(new KeyValueWrite("tests/grow/zzz", null, "new"));

        var second = await client.ListAsync(selector, first.PageETags);

        Assert.Single(first.Pages);
        Assert.False(second.Unchanged);
        Assert.Equal(2, second.Pages.Count);
        Assert.Contains(second.Items, kv => kv.Key == "tests/grow/zzz");
    }

    [Fact]
    public async Task Label_filter_picks_no_label_one_label_or_any()
    {
        await ClientCases.Label_filter_picks_no_label_one_label_or_any(Store);
        Assert.Contains(Server.Requests, r => r.Target.Contains("label=%00", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Get_reads_one_key_and_null_when_missing()
    {
        await ClientCases.Get_reads_one_key_and_null_when_missing(Store);
        Assert.Contains(Server.Requests, r => r.Target.StartsWith("/kv/tests%2Fget%2Fa%2Fb%3Ac?", StringComparison.Ordinal));
        AssertEveryRequestAuthenticated();
    }

    [Fact]
    public async Task Get_if_changed_answers_not_modified_changed_and_not_found() =>
        await ClientCases.Get_if_changed_answers_not_modified_changed_and_not_found(Store);

    [Fact]
    public async Task A_stale_etag_is_a_concurrency_error()
    {
        await ClientCases.A_stale_etag_is_a_concurrency_error(Store);
        Assert.Contains(Server.Requests, r => r is { Method: "PUT", Status: 412, IfMatch: not null });
    }

    [Fact]
    public async Task A_locked_flag_is_a_locked_error() => await ClientCases.A_locked_flag_is_a_locked_error(Store);

    [Fact]
    public async Task A_reader_reads_its_own_write_through_sync_tokens()
    {
        // The replica lags: only a request carrying the write's Sync-Token sees the write.
        Server.LaggingReplica = true;
        var writer = ClientCases.Client(Store);

        await ClientCases.A_reader_reads_its_own_write(Store, writer);
        var echoed = Server.Requests.Last(r => r.Method == "GET").SyncToken;

        // A client without the writer's tokens reads the replica, which has neither write yet.
        Assert.Null(await ClientCases.Client(Store).GetAsync("tests/sync/key"));
        Assert.NotNull(echoed);
        Assert.Contains($"{ContractServer.TokenId}=", echoed);
        Assert.Contains($"{ContractServer.AuxTokenId}=YXV4", echoed);
        Assert.DoesNotContain("sn=", echoed);
    }

    [Fact]
    public async Task A_sync_token_from_a_notification_catches_a_reader_up()
    {
        Server.LaggingReplica = true;
        Server.Seed("tests/push", null, "old");
        var writer = ClientCases.Client(Store);
        var reader = ClientCases.Client(Store);
        await writer.SetAsync(new KeyValueWrite("tests/push", null, "new"));
        Assert.Equal("old", (await reader.GetAsync("tests/push"))?.Value);

        // What an Event Grid KeyValueModified event carries as data.syncToken.
        reader.AddSyncToken($"{ContractServer.TokenId}={Convert.ToBase64String("2"u8.ToArray())};sn=2");

        Assert.Equal("new", (await reader.GetAsync("tests/push"))?.Value);
    }

    [Fact]
    public async Task A_wrong_secret_is_refused()
    {
        await ClientCases.A_wrong_secret_is_refused(Store);
        Assert.Equal("signature", Server.Requests.Single().AuthFailure);
    }

    /// <summary>What lets the end-to-end tests count each app instance's requests: every access key signs for itself.</summary>
    [Fact]
    public async Task Each_access_key_signs_with_its_own_secret_and_is_recorded_by_id()
    {
        var second = Server.ConnectionStringFor("second");
        var stolenId = $"Endpoint={Server.Endpoint};Id=second;Secret={Convert.ToBase64String(ContractServer.Secret)}";

        await ClientCases.Client(Store).GetAsync("tests/keys");
        await ClientCases.Client(second).GetAsync("tests/keys");
        var refused = await Assert.ThrowsAsync<AppConfigurationException>(() => ClientCases.Client(stolenId).GetAsync("tests/keys"));

        Assert.Equal(401, refused.Status);
        Assert.Equal([(ContractServer.Id, null), ("second", null), (null, "signature")],
            Server.Requests.Select(r => (r.Credential, r.AuthFailure)));
    }

    [Fact]
    public async Task A_date_more_than_15_minutes_off_is_refused()
    {
        var clock = new SetClock(DateTimeOffset.UtcNow.AddMinutes(-16));
        var client = ClientCases.Client(Store, options => options.Clock = clock);

        var refused = await Assert.ThrowsAsync<AppConfigurationException>(() => client.GetAsync("tests/skew"));
        clock.Now = DateTimeOffset.UtcNow.AddMinutes(-14);
        var accepted = await client.GetAsync("tests/skew");

        Assert.Equal(401, refused.Status);
        Assert.Null(accepted);
        Assert.Equal(["date", null], Server.Requests.Select(r => r.AuthFailure));
    }

    [Fact]
    public async Task A_stage_flag_round_trips_through_the_store() => await ClientCases.A_stage_flag_round_trips_through_the_store(Store);

    [Fact]
    public async Task A_stripped_stage_flag_is_replaced_by_the_stage_write() => await ClientCases.A_stripped_stage_flag_is_replaced_by_the_stage_write(Store);

    [Theory]
    [InlineData(429, "retry-after-ms", "700", 700)]
    [InlineData(429, "x-ms-retry-after-ms", "700", 700)]
    [InlineData(429, "Retry-After", "1", 1000)]
    [InlineData(503, "retry-after-ms", "700", 700)]
    public async Task A_throttled_call_waits_as_long_as_the_server_asks(int status, string header, string value, int waitMs)
    {
        Server.Seed("tests/throttled", null, "v");
        Server.Throttle(1, status, header, value);
        // A 10 ms backoff of its own: any longer wait comes from the server's header.
        var client = ClientCases.Client(Store, options => options.Retry.Delay = TimeSpan.FromMilliseconds(10));

        var read = await client.GetAsync("tests/throttled");

        Assert.Equal("v", read?.Value);
        var (throttled, retried) = (Server.Requests[0], Server.Requests[1]);
        Assert.Equal(status, throttled.Status);
        Assert.Equal(200, retried.Status);
        Assert.InRange((retried.At - throttled.At).TotalMilliseconds, waitMs - 50, waitMs + 3000);
    }

    [Fact]
    public async Task Without_retry_after_the_backoff_grows()
    {
        Server.Seed("tests/backoff", null, "v");
        Server.Throttle(3, 429, header: null);
        var client = ClientCases.Client(Store, options => options.Retry.Delay = TimeSpan.FromMilliseconds(200));

        Assert.Equal("v", (await client.GetAsync("tests/backoff"))?.Value);

        var at = Server.Requests.Select(r => r.At).ToList();
        var gaps = at.Zip(at.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToList();
        // Exponential with ±20 % jitter: about 200, 400, 800 ms.
        Assert.Equal(4, at.Count);
        Assert.InRange(gaps[0], 150, 1000);
        Assert.InRange(gaps[1], 300, 2000);
        Assert.InRange(gaps[2], 600, 4000);
    }

    [Fact]
    public async Task Retries_are_bounded()
    {
        Server.Throttle(10, 429, "retry-after-ms", "20");
        var client = Retrying(maxRetries: 2, delayMs: 10);

        var failed = await Assert.ThrowsAsync<AppConfigurationException>(() => client.GetAsync("tests/bounded"));

        Assert.Equal(429, failed.Status);
        Assert.True(failed.IsTransient);
        Assert.Equal(TimeSpan.FromMilliseconds(20), failed.RetryAfter);
        Assert.Equal(3, Server.Requests.Count);
    }

    [Fact]
    public async Task A_retry_after_beyond_the_cap_ends_the_call_at_once()
    {
        Server.Throttle(1, 429, "retry-after-ms", "60000");
        var client = ClientCases.Client(Store, options => options.MaxServerRetryDelay = TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();

        var failed = await Assert.ThrowsAsync<AppConfigurationException>(() => client.GetAsync("tests/capped"));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal(TimeSpan.FromMinutes(1), failed.RetryAfter);
        Assert.Single(Server.Requests);
    }

    [Fact]
    public async Task A_store_that_is_down_fails_fast_and_serves_again_when_back()
    {
        Server.Seed("tests/outage", null, "v");
        var client = Retrying(maxRetries: 2, delayMs: 50);
        Assert.Equal("v", (await client.GetAsync("tests/outage"))?.Value);
        await Server.DownAsync();
        var clock = Stopwatch.StartNew();

        var down = await Assert.ThrowsAsync<AppConfigurationException>(() => client.GetAsync("tests/outage"));
        var failedAfter = clock.Elapsed;
        await Server.UpAsync();

        Assert.Equal(0, down.Status);
        Assert.True(down.IsTransient);
        Assert.Contains("unreachable", down.Message);
        Assert.True(failedAfter < TimeSpan.FromSeconds(5), $"took {failedAfter}");
        Assert.Equal("v", (await client.GetAsync("tests/outage"))?.Value);
    }

    [Fact]
    public async Task A_store_that_comes_back_within_the_retries_is_not_noticed()
    {
        Server.Seed("tests/blip", null, "v");
        var client = Retrying(maxRetries: 6, delayMs: 150);
        await Server.DownAsync();

        var read = client.GetAsync("tests/blip");
        await Task.Delay(300);
        await Server.UpAsync();

        Assert.Equal("v", (await read)?.Value);
    }

    [Fact]
    public async Task A_stalled_store_hits_the_network_timeout()
    {
        Server.Stall(5, TimeSpan.FromSeconds(20));
        var client = Retrying(maxRetries: 1, delayMs: 10, options => options.Retry.NetworkTimeout = TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        var failed = await Assert.ThrowsAsync<AppConfigurationException>(() => client.GetAsync("tests/stalled"));

        Assert.Equal(0, failed.Status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    /// <summary>
    /// The caller gives up during the retries of a stalled store (the refresh loop's read timeout):
    /// it hears an OperationCanceledException, not Azure.Core's AggregateException of the attempts,
    /// which the refresh loop took for a bug and died of.
    /// </summary>
    [Fact]
    public async Task A_call_the_caller_cancels_while_the_store_stalls_ends_as_cancelled()
    {
        Server.Stall(10, TimeSpan.FromSeconds(20));
        var client = Retrying(maxRetries: 3, delayMs: 10, options => options.Retry.NetworkTimeout = TimeSpan.FromMilliseconds(300));
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var clock = Stopwatch.StartNew();

        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("tests/stalled", ct: caller.Token));

        Assert.Equal(caller.Token, cancelled.CancellationToken);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_an_error_not_a_value()
    {
        await ClientCases.WriteKeysAsync(ClientCases.Client(Store), Store, "garbage", 1);
        Server.ServeGarbage();

        var failed = await Assert.ThrowsAsync<AppConfigurationException>(() =>
            ClientCases.Client(Store).ListAsync(new KeyValueSelector("tests/garbage/*")));

        Assert.Contains("invalid JSON", failed.Message);
    }

    [Fact]
    public async Task The_opt_in_suite_keeps_to_its_own_keys_and_removes_them()
    {
        // The real-store suite's own plumbing, run against this server so it is tested on every run.
        Server.Seed("someone-elses/key", null, "keep");
        var store = new RealStore(Server.ConnectionString, Server.PageSize);

        await ClientCases.Listing_follows_every_page(store);
        await ClientCases.A_locked_flag_is_a_locked_error(store);
        // Left locked, so the clean-up has to unlock before it deletes.
        await ClientCases.Client(store).SetLockedAsync(StageFeatureFlag.Key(store.Migration), null, locked: true);
        await store.DisposeAsync();

        var left = await ClientCases.Client(store).ListAsync(new KeyValueSelector("*", "*"));
        Assert.Equal(["someone-elses/key"], left.Items.Select(kv => kv.Key));
    }

    [Fact]
    public async Task Entra_id_sends_a_bearer_token_for_the_app_configuration_scope()
    {
        await using var store = await ContractStore.StartAsync(https: true);
        store.Server.BearerToken = "entra-token";
        store.Server.Seed("tests/entra", null, "v");
        var certificate = store.Server.Certificate!;
        var options = new AppConfigurationClientOptions
        {
            Transport = new HttpClientTransport(new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint,
            }),
        };
        var credential = new FakeCredential("entra-token");
        var client = AppConfigurationClient.Create(new AppConfigOptions { Endpoint = store.Server.Endpoint.ToString() }, credential, options);

        var read = await client.GetAsync("tests/entra");
        var refused = await Assert.ThrowsAsync<AppConfigurationException>(() =>
            new AppConfigurationClient(store.Server.Endpoint, new FakeCredential("someone-else"), options).GetAsync("tests/entra"));

        Assert.Equal("v", read?.Value);
        Assert.Equal([AppConfigurationClient.EntraScope], credential.Scopes.Distinct());
        Assert.Equal("https://appconfig.azure.com/.default", AppConfigurationClient.EntraScope);
        Assert.Equal("Bearer", store.Server.Requests[0].AuthScheme);
        Assert.Equal(401, refused.Status);
    }
}
