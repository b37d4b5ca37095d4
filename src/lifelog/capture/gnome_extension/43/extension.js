// lifelog's windows for GNOME Shell 43-44: org.lifelog.Windows.List on /org/lifelog/Windows (the
// Shell's own bus name, org.gnome.Shell) returns every window as JSON, as lifelog's KWin script does.
/* exported init */
const { Gio, Shell } = imports.gi;

const IFACE = `<node><interface name="org.lifelog.Windows">
  <method name="List"><arg type="s" direction="out" name="windows"/></method>
</interface></node>`;

function rect(r) {
    return [r.x, r.y, r.width, r.height];
}

function windows() {
    const tracker = Shell.WindowTracker.get_default();
    const focus = global.display.get_focus_window();
    const workspace = global.workspace_manager.get_active_workspace();
    return JSON.stringify(global.get_window_actors().map((actor, order) => {
        const w = actor.get_meta_window();
        const app = tracker.get_window_app(w);
        const frame = w.get_frame_rect();
        const parent = w.get_transient_for();
        return {
            id: String(w.get_id()),
            app: w.get_wm_class() || (app ? app.get_id() : ''),
            instance: w.get_wm_class_instance() || '',
            title: w.get_title() || '',
            pid: w.get_pid(),
            frame: rect(frame),
            client: rect(w.frame_rect_to_client_rect(frame)),
            active: w === focus,
            minimized: w.minimized,
            desktop: w.is_on_all_workspaces() || w.get_workspace() === workspace,
            output: String(w.get_monitor()),
            order,
            transientFor: parent ? String(parent.get_id()) : '',
        };
    }));
}

class LifelogWindows {
    enable() {
        this._dbus = Gio.DBusExportedObject.wrapJSObject(IFACE, { List: windows });
        this._dbus.export(Gio.DBus.session, '/org/lifelog/Windows');
    }

    disable() {
        this._dbus.unexport();
        this._dbus = null;
    }
}

function init() {
    return new LifelogWindows();
}
