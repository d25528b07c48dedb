using Microsoft.Extensions.Options;
using SignalFunctions.Flags.AppConfiguration;

namespace SignalFunctions.Flags;

/// <summary>
/// Where the stage flags live: App Configuration when AppConfig__ConnectionString (HMAC)
/// or AppConfig__Endpoint (Entra ID) is set, else the embedded store in PostgreSQL.
/// </summary>
public static class FlagSetup
{
    public static bool UsesAppConfiguration(IConfiguration configuration) =>
        configuration.GetSection("AppConfig").Get<AppConfigOptions>() is { IsConfigured: true };

    /// <summary>The store the ops verbs, the timers and the guard read and write.</summary>
    public static IServiceCollection AddStageFlagStore(this IServiceCollection services, IConfiguration configuration)
    {
        if (!UsesAppConfiguration(configuration))
        {
            services.AddSingleton<IStageFlagStore>(sp => sp.GetRequiredService<EmbeddedFlagStore>());
            return services;
        }
        services.AddSingleton(sp => AppConfigurationClient.Create(
            sp.GetRequiredService<IOptions<AppConfigOptions>>().Value,
            options: new AppConfigurationClientOptions { Clock = sp.GetRequiredService<TimeProvider>() },
            logger: sp.GetRequiredService<ILogger<AppConfigurationClient>>()));
        services.AddSingleton<LastKnownGood>();
        services.AddSingleton<AppConfigurationFlagStore>();
        services.AddSingleton<IStageFlagStore>(sp => sp.GetRequiredService<AppConfigurationFlagStore>());
        services.AddSingleton<FlagRefreshTrigger>();
        return services;
    }

    /// <summary>What keeps this server's <see cref="FlagState"/> current: LISTEN/NOTIFY, or App Configuration polling and push.</summary>
    public static IServiceCollection AddFlagRefresh(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<StageRouter>();
        if (UsesAppConfiguration(configuration))
        {
            services.AddHostedService<AppConfigurationFlagRefresher>();
        }
        else
        {
            services.AddHostedService<EmbeddedFlagWatcher>();
        }
        return services;
    }
}
