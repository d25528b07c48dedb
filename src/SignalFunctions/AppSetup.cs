using System.Text.Json;
using Microsoft.Extensions.Options;
using SignalFunctions.Brands;
using SignalFunctions.Database;
using SignalFunctions.Flags;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Guard;
using SignalFunctions.Health;
using SignalFunctions.Ingest;
using SignalFunctions.Migrations;
using SignalFunctions.Partitions;
using SignalFunctions.Stages;
using SignalFunctions.Views;

namespace SignalFunctions;

/// <summary>The services of each capability, registered together for the server and the CLI.</summary>
public static class AppSetup
{
    /// <summary>What both the server and the ops verbs need: settings, the database, the flag store.</summary>
    public static IServiceCollection AddSignalCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSignalDatabase(configuration);
        services.AddOptions<FlagOptions>().BindConfiguration("Flags").ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AppConfigOptions>().BindConfiguration("AppConfig").ValidateOnStart();
        services.AddSingleton<IValidateOptions<AppConfigOptions>, AppConfigOptionsValidator>();
        services.AddOptions<IngestOptions>().BindConfiguration("Ingest").ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EventsOptions>().BindConfiguration("Events").ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<EventPartitions>();
        services.AddSingleton<PartitionRetention>();
        services.AddOptions<ClickOptions>().BindConfiguration("Clicks").ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<EmbeddedFlagStore>();
        services.AddStageFlagStore(configuration);
        services.AddOptions<MigrationOptions>().BindConfiguration("Migrations")
            // One chronology cap for ingest and the click-events rebuild: a second setting could disagree.
            .Configure<IOptions<ClickOptions>>((m, clicks) => m.SqlArguments[MigrationOptions.MaxEventsPerClickArgument] = clicks.Value.MaxEventsPerClick)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<MigrationOptions>, ArgumentsValidator>();
        services.AddSingleton<RepairJob>();
        services.AddSingleton<Backfill>();
        services.AddSingleton<Parity>();
        services.AddSingleton<StageControl>();
        services.AddSingleton<Cutover>();
        services.AddSingleton<Archive>();
        services.AddSingleton<MigrationReset>();
        services.AddOptions<ViewOptions>().BindConfiguration("Views").ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<DailyRollup>();
        services.AddSingleton<IViewRefresher>(sp => sp.GetRequiredService<DailyRollup>());
        services.AddSingleton<DeclaredViews>();
        services.AddOptions<ReadOptions>().BindConfiguration(ReadOptions.Section)
            .Configure<IConfiguration>(ReadOptions.Bind).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReadOptions>, ReadOptions.Validator>();
        services.AddOptions<GuardOptions>().BindConfiguration("Guard").ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<StageGuard>();
        services.AddSingleton(typeof(LiveOptions<>));
        return services;
    }

    /// <summary>What serving the functions needs on top of the core (any host builder: the worker's, or a test's).</summary>
    public static IHostApplicationBuilder AddSignalServer(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSignalCore(builder.Configuration);
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        services.AddProblemDetails();

        var storeSettings = new StoreSettings();
        builder.Configuration.Add(storeSettings);
        services.AddSingleton(sp => new FlagState(sp.GetRequiredService<TimeProvider>(), storeSettings.Apply));
        services.AddFlagRefresh(builder.Configuration);
        services.AddSingleton<WriteHealth>();
        services.AddSingleton<ShadowReads>();
        services.AddSingleton<SignalEventWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<SignalEventWriter>());
        services.AddSingleton<ClickWriter>();
        services.AddSingleton<IngestMeter>();
        services.AddHostedService<GuardWindowFlusher>();
        services.AddIngestProtection();
        return builder;
    }
}
