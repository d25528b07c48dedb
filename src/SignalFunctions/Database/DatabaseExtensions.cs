using Npgsql;

namespace SignalFunctions.Database;

public static class DatabaseExtensions
{
    public const string ConnectionStringName = "Signal";

    /// <summary>One NpgsqlDataSource for the process: a bounded pool, a connection per unit of work.</summary>
    public static IServiceCollection AddSignalDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionStringName} is not set. Set ConnectionStrings__{ConnectionStringName} " +
                "to a PostgreSQL connection string, or start the app with ./run.sh, which provides a local database.");
        }

        var dataSource = CreateDataSource(connectionString); // fails now, naming the setting, if it is malformed
        services.AddSingleton(dataSource);
        services.AddSingleton<SchemaMigrator>();
        return services;
    }

    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException(
                $"ConnectionStrings__{ConnectionStringName} is not a valid PostgreSQL connection string ({ex.Message}). " +
                "Expected e.g. Host=127.0.0.1;Port=5432;Username=app;Password=…;Database=signal.", ex);
        }
        // Fail fast while the database is down so ingest can answer 503 instead of hanging.
        if (!connectionString.Contains("Timeout", StringComparison.OrdinalIgnoreCase))
        {
            builder.Timeout = 5;
        }
        builder.ApplicationName ??= "SignalFunctions";
        // Ingest runs the same few statements thousands of times a second: parse and plan them once
        // per connection, not per group (BENCHMARKS.md).
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
        }
        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    /// <summary>Errors that mean "the database is not reachable right now", as opposed to a bad statement.</summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        NpgsqlException { IsTransient: true } => true,
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exception
                                || pg.SqlState.StartsWith("57P", StringComparison.Ordinal), // admin shutdown, cannot connect now
        NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException or TimeoutException } => true,
        TimeoutException => true,
        _ => false,
    };
}
