; Inno Setup script: the Windows installer around the PyInstaller one-folder build.
; packaging/ci/windows.yml runs:  ISCC /DAppVersion=X.Y.Z /DSourceDir=build\frozen\responder-console /Odist
#ifndef AppVersion
  #error Pass /DAppVersion=X.Y.Z
#endif
#ifndef SourceDir
  #error Pass /DSourceDir=<the frozen folder>
#endif

[Setup]
AppId={{6F0E4C3A-2B7D-4E55-9A5C-8C1D0B7E2F41}
AppName=Responder Console
AppVersion={#AppVersion}
AppPublisher=Responder Console maintainers
DefaultDirName={autopf}\Responder Console
DefaultGroupName=Responder Console
DisableProgramGroupPage=yes
; per-user install without elevation; an administrator may still choose all users
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=responder-console-{#AppVersion}-windows-x64-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\responder-console.exe

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Responder Console"; Filename: "{app}\responder-console.exe"
Name: "{autodesktop}\Responder Console"; Filename: "{app}\responder-console.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\responder-console.exe"; Description: "{cm:LaunchProgram,Responder Console}"; Flags: nowait postinstall skipifsilent
