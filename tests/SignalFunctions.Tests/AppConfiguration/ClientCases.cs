using SignalFunctions.Flags;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Stages;

namespace SignalFunctions.Tests.AppConfiguration;

/// <summary>
/// The client cases every store must pass: the in-process contract server (which also checks what
/// the client sent) and, opt-in, a real store or the emulator. Each case asserts what the client sees.
/// </summary>
public static class ClientCases
{
    public static AppConfigurationClient Client(IStoreUnderTest store, Action<AppConfigurationClientOptions>? configure = null) =>
        Client(store.ConnectionString, configure);

    public static AppConfigurationClient Client(string connectionString, Action<AppConfigurationClientOptions>? configure = null)
    {
        var options = new AppConfigurationClientOptions();
        configure?.Invoke(options);
        return new AppConfigurationClient(AppConfigurationConnection.Parse(connectionString), options);
    }

    /// <summary>Writes <paramref name="count"/> plain key-values under the store's prefix.</summary>
    public static async Task<List<KeyValue>> WriteKeysAsync(AppConfigurationClient client, IStoreUnderTest store, string folder, int count)
    {
        var written = new List<KeyValue>();
        foreach (var batch in Enumerable.Range(0, count).Chunk(10))
        {
            written.AddRange(await Task.WhenAll(batch.Select(i =>
                client.SetAsync(new KeyValueWrite($"{store.KeyPrefix}{folder}/key-{i:D4}", null, $"value {i}")))));
        }
        return written;
    }

    public static async Task Listing_follows_every_page(IStoreUnderTest store)
    {
        var client = Client(store);
        var written = await WriteKeysAsync(client, store, "paging", store.PageSize + 1);

        var listing = await client.ListAsync(new KeyValueSelector($"{store.KeyPrefix}paging/*"));

        Assert.True(listing.Pages.Count >= 2, $"{written.Count} keys in pages of {store.PageSize} came back in {listing.Pages.Count} page(s)");
        Assert.False(listing.Unchanged);
        Assert.All(listing.Pages, page => Assert.False(string.IsNullOrEmpty(page.ETag)));
        Assert.Equal(written.Select(kv => kv.Key).Order(StringComparer.Ordinal), listing.Items.Select(kv => kv.Key).Order(StringComparer.Ordinal));
        Assert.All(listing.Items, kv => Assert.Equal(written.Single(w => w.Key == kv.Key).ETag, kv.ETag));
    }

    public static async Task<(KeyValueListing First, KeyValueListing Second)> Unchanged_listing_is_not_modified_on_every_page(IStoreUnderTest store)
    {
        var client = Client(store);
        await WriteKeysAsync(client, store, "unchanged", store.PageSize + 1);
        var selector = new KeyValueSelector($"{store.KeyPrefix}unchanged/*");
        var first = await client.ListAsync(selector);

        var second = await client.ListAsync(selector, first.PageETags);

        Assert.True(second.Unchanged);
        Assert.Empty(second.Items);
        Assert.Equal(first.PageETags, second.PageETags);
        Assert.All(second.Pages, page => Assert.True(page.NotModified));
        return (first, second);
    }

    public static async Task A_change_on_the_last_page_is_seen(IStoreUnderTest store)
    {
        var client = Client(store);
        var written = await WriteKeysAsync(client, store, "changed", store.PageSize + 1);
        var selector = new KeyValueSelector($"{store.KeyPrefix}changed/*");
        var first = await client.ListAsync(selector);
        var last = written.MaxBy(kv => kv.Key, StringComparer.Ordinal)!;
        await client.SetAsync(new KeyValueWrite(last.Key, null, "changed"), WriteCondition.Matching(last.ETag));

        var second = await client.ListAsync(selector, first.PageETags);

        Assert.False(second.Unchanged);
        Assert.Equal(written.Count, second.Items.Count());
        Assert.Equal("changed", second.Items.Single(kv => kv.Key == last.Key).Value);
        Assert.NotEqual(first.PageETags[^1], second.PageETags[^1]);
    }

    public static async Task Label_filter_picks_no_label_one_label_or_any(IStoreUnderTest store)
    {
        var client = Client(store);
        var key = $"{store.KeyPrefix}labels/setting";
        await client.SetAsync(new KeyValueWrite(key, null, "unlabelled"));
        await client.SetAsync(new KeyValueWrite(key, "prod", "production"));

        var none = await client.ListAsync(new KeyValueSelector(key));
        var prod = await client.ListAsync(new KeyValueSelector(key, "prod"));
        var any = await client.ListAsync(new KeyValueSelector(key, "*"));

        Assert.Equal("unlabelled", Assert.Single(none.Items).Value);
        Assert.Null(none.Items.Single().Label);
        Assert.Equal("production", Assert.Single(prod.Items).Value);
        Assert.Equal(["production", "unlabelled"], any.Items.Select(kv => kv.Value!).Order(StringComparer.Ordinal));
        Assert.Equal("production", (await client.GetAsync(key, "prod"))?.Value);
        Assert.Equal("unlabelled", (await client.GetAsync(key))?.Value);
    }

    public static async Task Get_reads_one_key_and_null_when_missing(IStoreUnderTest store)
    {
        var client = Client(store);
        var key = $"{store.KeyPrefix}get/a/b:c"; // '/' inside a key travels as %2F and is signed that way
        Assert.Null(await client.GetAsync(key));

        var written = await client.SetAsync(new KeyValueWrite(key, null, "v", "text/plain",
            new Dictionary<string, string?> { ["owner"] = "signal" }));
        var read = await client.GetAsync(key);

        Assert.NotNull(read);
        Assert.Equal(key, read.Key);
        Assert.Equal("v", read.Value);
        Assert.Equal("text/plain", read.ContentType);
        Assert.Equal("signal", read.Tags?["owner"]);
        Assert.Equal(written.ETag, read.ETag);
        Assert.False(string.IsNullOrEmpty(read.ETag));
        Assert.NotNull(read.LastModified);
        Assert.False(read.Locked);
    }

    public static async Task Get_if_changed_answers_not_modified_changed_and_not_found(IStoreUnderTest store)
    {
        var client = Client(store);
        var key = $"{store.KeyPrefix}conditional/key";
        var first = await client.SetAsync(new KeyValueWrite(key, null, "1"));

        var same = await client.GetIfChangedAsync(key, null, first.ETag);
        var second = await client.SetAsync(new KeyValueWrite(key, null, "2"));
        var changed = await client.GetIfChangedAsync(key, null, first.ETag);
        await client.DeleteAsync(key);
        var gone = await client.GetIfChangedAsync(key, null, second.ETag);

        Assert.Equal(KeyValueReadStatus.NotModified, same.Status);
        Assert.Equal(KeyValueReadStatus.Changed, changed.Status);
        Assert.Equal("2", changed.Value?.Value);
        Assert.Equal(KeyValueReadStatus.NotFound, gone.Status);
    }

    public static async Task A_stale_etag_is_a_concurrency_error(IStoreUnderTest store)
    {
        var client = Client(store);
        var key = $"{store.KeyPrefix}concurrency/key";
        var first = await client.SetAsync(new KeyValueWrite(key, null, "1"), WriteCondition.Absent);
        var second = await client.SetAsync(new KeyValueWrite(key, null, "2"), WriteCondition.Matching(first.ETag));

        var stale = await Assert.ThrowsAsync<AppConfigurationConcurrencyException>(() =>
            client.SetAsync(new KeyValueWrite(key, null, "3"), WriteCondition.Matching(first.ETag)));
        var exists = await Assert.ThrowsAsync<AppConfigurationConcurrencyException>(() =>
            client.SetAsync(new KeyValueWrite(key, null, "3"), WriteCondition.Absent));
        var staleDelete = await Assert.ThrowsAsync<AppConfigurationConcurrencyException>(() =>
            client.DeleteAsync(key, null, WriteCondition.Matching(first.ETag)));

        Assert.Equal(412, stale.Status);
        Assert.Equal(key, stale.Key);
        Assert.Contains("412", exists.Message);
        Assert.Equal(412, staleDelete.Status);
        Assert.Equal("2", (await client.GetAsync(key))?.Value);
        Assert.Equal("4", (await client.SetAsync(new KeyValueWrite(key, null, "4"), WriteCondition.Matching(second.ETag))).Value);
    }

    public static async Task A_locked_flag_is_a_locked_error(IStoreUnderTest store)
    {
        var client = Client(store);
        var key = StageFeatureFlag.Key(store.Migration);
        var value = FeatureFlagKeys.Serialize(StageFeatureFlag.Create(store.Migration, Stage.Shadow, 100));
        var written = await client.SetAsync(new KeyValueWrite(key, null, value, FeatureFlagKeys.ContentType));
        var locked = await client.SetLockedAsync(key, null, locked: true);

        var write = await Assert.ThrowsAsync<AppConfigurationLockedException>(() =>
            client.SetAsync(new KeyValueWrite(key, null, value, FeatureFlagKeys.ContentType), WriteCondition.Matching(locked.ETag)));
        var delete = await Assert.ThrowsAsync<AppConfigurationLockedException>(() => client.DeleteAsync(key));
        var unlocked = await client.SetLockedAsync(key, null, locked: false);

        Assert.True(locked.Locked);
        Assert.Equal(409, write.Status);
        Assert.Contains("is locked in App Configuration", write.Message);
        Assert.StartsWith("Flag", write.Message);
        Assert.Equal(409, delete.Status);
        Assert.False(unlocked.Locked);
        Assert.Equal(written.Value, (await client.SetAsync(new KeyValueWrite(key, null, value, FeatureFlagKeys.ContentType))).Value);
    }

    public static async Task A_reader_reads_its_own_write(IStoreUnderTest store, AppConfigurationClient? client = null)
    {
        client ??= Client(store);
        var key = $"{store.KeyPrefix}sync/key";
        await client.SetAsync(new KeyValueWrite(key, null, "before"));
        await client.GetAsync(key);

        await client.SetAsync(new KeyValueWrite(key, null, "after"));

        Assert.Equal("after", (await client.GetAsync(key))?.Value);
        Assert.Equal("after", Assert.Single((await client.ListAsync(new KeyValueSelector(key))).Items).Value);
    }

    public static async Task A_wrong_secret_is_refused(IStoreUnderTest store)
    {
        var connection = AppConfigurationConnection.Parse(store.ConnectionString);
        var wrong = $"Endpoint={connection.Endpoint};Id={connection.Id};Secret={Convert.ToBase64String("not the secret"u8.ToArray())}";

        var refused = await Assert.ThrowsAsync<AppConfigurationException>(() => Client(wrong).GetAsync($"{store.KeyPrefix}secret"));

        Assert.Equal(401, refused.Status);
        Assert.False(refused.IsTransient);
        Assert.Contains(AppConfigurationConnection.SettingName, refused.Message);
    }

    public static async Task A_stage_flag_round_trips_through_the_store(IStoreUnderTest store)
    {
        var client = Client(store);
        var key = StageFeatureFlag.Key(store.Migration);
        KeyValue? current = null;
        foreach (var (stage, percent) in new[] { (Stage.DualWrite, 100), (Stage.Live, 30), (Stage.Rampdown, 0), (Stage.Off, 100) })
        {
            var value = FeatureFlagKeys.Serialize(StageFeatureFlag.Create(store.Migration, stage, percent));
            current = await client.SetAsync(new KeyValueWrite(key, null, value, FeatureFlagKeys.ContentType),
                current is null ? WriteCondition.None : WriteCondition.Matching(current.ETag));

            var listed = Assert.Single((await client.ListAsync(new KeyValueSelector(key))).Items);
            var flag = StageFeatureFlag.Read(listed);

            Assert.Equal(FeatureFlagKeys.ContentType, listed.ContentType);
            Assert.Equal((store.Migration, stage, percent), (flag.Migration, flag.Stage, flag.Percent));
        }
    }

    /// <summary>
    /// A stage flag as an SDK helper leaves it (no variants, no allocation) is rejected by the app; the
    /// stage write replaces it whole, over the ETag it read, and says what it replaced.
    /// </summary>
    public static async Task A_stripped_stage_flag_is_replaced_by_the_stage_write(IStoreUnderTest store)
    {
        var client = Client(store);
        var key = StageFeatureFlag.Key(store.Migration);
        await client.SetAsync(new KeyValueWrite(key, null,
            $$$"""{"id":"SignalFunctions.{{{store.Migration}}}","description":"","enabled":true,"conditions":{"client_filters":[]}}""",
            FeatureFlagKeys.ContentType));
        using var unused = Npgsql.NpgsqlDataSource.Create("Host=unused.invalid");
        var flags = new SignalFunctions.Flags.AppConfigurationFlagStore(client, new SignalFunctions.Flags.LastKnownGood(unused),
            Microsoft.Extensions.Options.Options.Create(new FlagOptions()), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<SignalFunctions.Flags.AppConfigurationFlagStore>.Instance);

        var change = await flags.SetStageAsync(store.Migration, Stage.DualWrite, 100, "test", expected: null, CancellationToken.None);

        Assert.Equal("it has no allocation, so it names no stage", change.Replaced);
        var listed = Assert.Single((await client.ListAsync(new KeyValueSelector(key))).Items);
        var flag = StageFeatureFlag.Read(listed);
        Assert.Equal((Stage.DualWrite, 100), (flag.Stage, flag.Percent));
    }
}
