/*
 * DynamoDBLocalLoopback starts Amazon's DynamoDB Local bound to 127.0.0.1 only.
 *
 * DynamoDB Local has no bind-address flag: its DynamoDBProxyServer builds a Jetty 12
 * Server(port), whose ServerConnector listens on every interface. This launcher lets
 * DynamoDB Local parse its own command line, reaches into the proxy's private "server"
 * field, sets the host of each ServerConnector to 127.0.0.1 before start(), then joins.
 * Telemetry is always disabled (the stack must not talk to the network).
 *
 * Run with Java 11+ source-file mode (infra/localstack does this):
 *
 *   java -cp "<dir>/DynamoDBLocal.jar:<dir>/DynamoDBLocal_lib/*" \
 *        -Djava.library.path=<dir>/DynamoDBLocal_lib \
 *        infra/local/DynamoDBLocalLoopback.java -inMemory -sharedDb -port 8000
 */

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public final class DynamoDBLocalLoopback {
    private static final String HOST = "127.0.0.1";

    public static void main(String[] args) throws Exception {
        List<String> argv = new ArrayList<>(Arrays.asList(args));
        if (!argv.contains("-disableTelemetry")) {
            argv.add("-disableTelemetry");
        }
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(argv.toArray(new String[0]));

        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);

        int bound = 0;
        for (Connector connector : server.getConnectors()) {
            if (connector instanceof ServerConnector serverConnector) {
                serverConnector.setHost(HOST);
                bound++;
            }
        }
        if (bound == 0) {
            throw new IllegalStateException("DynamoDB Local has no ServerConnector to bind to " + HOST);
        }

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                proxy.stop();
            } catch (Exception e) {
                System.err.println("DynamoDB Local: stop failed: " + e);
            }
        }));

        // safeStart() is start() without the telemetry call; it also propagates a
        // failed bind (port in use) instead of only printing it.
        proxy.safeStart();
        System.out.println("DynamoDB Local listening on http://" + HOST + ":" + ((ServerConnector) server.getConnectors()[0]).getLocalPort());
        proxy.join();
    }
}
